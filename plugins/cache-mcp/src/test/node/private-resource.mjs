// Session-private resources through an MCP gateway (the official TypeScript SDK client against
// @modelcontextprotocol/server-everything): in "create" mode a session has the server make a
// resource that exists for that session only (the gzip-file-as-resource tool, from a data: URI),
// then reads it twice; in "read" mode a new session reads the same URI.
//
//   node private-resource.mjs URL create|read NAME
//
// Prints one JSON line: {"reads":[{"ok":true,"text":"..."}|{"ok":false,"error":"..."},...],"xcache":[...]}
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, mode, name] = process.argv.slice(2);
const uri = `demo://resource/session/${name}`;
const xcache = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  if (typeof init?.body === 'string' && init.body.includes('"resources/read"')) {
    xcache.push(response.headers.get('x-cache') ?? 'none');
  }
  return response;
};

const client = new Client({ name: 'portal-gateway-private-resource', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);
if (mode === 'create') {
  await client.callTool({ name: 'gzip-file-as-resource',
    arguments: { name, data: 'data:text/plain,secret-of-the-first-session', outputType: 'resourceLink' } });
}
const reads = [];
for (let i = 0; i < (mode === 'create' ? 2 : 1); i++) {
  try {
    const r = await client.readResource({ uri });
    reads.push({ ok: true, size: JSON.stringify(r.contents).length });
  } catch (e) {
    reads.push({ ok: false, error: String(e?.message ?? e) });
  }
}
console.log(JSON.stringify({ reads, xcache }));
try {
  await transport.terminateSession();
} catch {
  // nothing to end
}
await client.close();
process.exit(0);
