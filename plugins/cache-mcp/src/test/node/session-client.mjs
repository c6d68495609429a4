// An MCP client session (the official TypeScript SDK) that lists the tools twice, declaring the
// capabilities it is given, and reports what each list held and the gateway's X-Cache on it.
//
//   node session-client.mjs URL [--caps sampling,elicitation,roots]
//
// Prints one JSON line: {"ok":true,"tools":[N1,N2],"names":[...],"xcache":["MISS","HIT"]}
// (xcache is [] when no gateway answered). Exits 0 when both lists succeeded.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const args = process.argv.slice(2);
const url = args[0];
const capsArg = args.indexOf('--caps') >= 0 ? args[args.indexOf('--caps') + 1] : '';
const capabilities = {};
for (const cap of capsArg.split(',').filter(Boolean)) {
  capabilities[cap] = cap === 'roots' ? { listChanged: true } : {};
}

const xcache = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const body = typeof init?.body === 'string' ? init.body : '';
  if (body.includes('"tools/list"')) {
    xcache.push(response.headers.get('x-cache') ?? 'none');
  }
  return response;
};

const client = new Client({ name: 'portal-gateway-session-client', version: '1.0.0' }, { capabilities });
const transport = new StreamableHTTPClientTransport(new URL(url));
try {
  await client.connect(transport);
  const first = await client.listTools();
  const second = await client.listTools();
  console.log(JSON.stringify({ ok: true, tools: [first.tools.length, second.tools.length],
    names: first.tools.map(t => t.name).sort(), xcache: xcache.filter(x => x !== 'none') }));
  try {
    await transport.terminateSession();
  } catch {
    // a server without sessions
  }
  await client.close();
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e) }));
  process.exit(1);
}
