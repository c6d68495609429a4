// An MCP client session (the official TypeScript SDK) that pauses between calls, as a person using
// an assistant does: the server's keep-alive expires between them.
//
//   node pause-client.mjs URL CYCLES PAUSE_MS
//
// Connects (initialize), then CYCLES times: calls the tool "echo" with {message: "cycle N"} and
// waits PAUSE_MS. Prints one JSON line per call on stdout: {"cycle":N,"ok":true,"text":"..."} or
// {"cycle":N,"ok":false,"error":"..."}, then closes the session. Exits 0 only if every call succeeded.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, cyclesArg, pauseArg] = process.argv.slice(2);
if (!url || !cyclesArg || !pauseArg) {
  console.error('usage: node pause-client.mjs URL CYCLES PAUSE_MS');
  process.exit(2);
}
const cycles = Number.parseInt(cyclesArg, 10);
const pauseMs = Number.parseInt(pauseArg, 10);

const client = new Client({ name: 'portal-gateway-pause-client', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url));
let failed = false;
try {
  await client.connect(transport);
  for (let cycle = 1; cycle <= cycles; cycle++) {
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: `cycle ${cycle}` } },
        undefined, { timeout: 30_000 });
      const text = (result.content ?? []).map(c => c.text ?? '').join('');
      console.log(JSON.stringify({ cycle, ok: !result.isError, text }));
      failed ||= Boolean(result.isError);
    } catch (e) {
      console.log(JSON.stringify({ cycle, ok: false, error: String(e?.message ?? e) }));
      failed = true;
    }
    if (cycle < cycles) {
      await new Promise(resolve => setTimeout(resolve, pauseMs));
    }
  }
} catch (e) {
  console.log(JSON.stringify({ cycle: 0, ok: false, error: String(e?.message ?? e) }));
  failed = true;
} finally {
  try {
    await transport.terminateSession();
  } catch {
    // A stateless server has no session to end.
  }
  await client.close();
}
process.exit(failed ? 1 : 0);
