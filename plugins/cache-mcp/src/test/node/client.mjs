// A real MCP client (the official TypeScript SDK) for the cache-mcp plugin's tests.
//
//   node client.mjs URL [--header 'Name: value']... [--timeout-ms N]
//
// URL is the MCP endpoint, e.g. http://127.0.0.1:8080/peer/mcp/mcp. More headers can also come from
// the environment: MCP_CLIENT_HEADERS, one 'Name: value' a line. --timeout-ms bounds each request
// (default 10000; the SDK's own default is 60 s).
//
// Connects (initialize), then runs a fixed script, and prints one JSON line per step on stdout:
//   {"step":"tools/list#1","ok":true,"result":{...},"http":[...]}
//   {"step":"tools/call:counter#1","ok":false,"error":"...","errors":[...],"http":[...]}
// Steps: initialize, tools/list#1, tools/list#2, tools/call:counter#1, tools/call:counter#2,
// tools/call:static-info#1, tools/call:static-info#2, prompts/list, resources/list, resources/read.
// "http" lists the HTTP exchanges the step made: {"method","rpc":[methods],"ids":[ids],"status",
// "contentType","headers":{response headers, lower case}}. "errors" holds what the SDK reported
// while the step ran (a response with an unknown id, a message that fails the schema, a broken
// stream): any of them fails the step at once. An error outside every step prints
// {"step":"error","ok":false,"error":"..."}. "ms" is how long the step took. The "status" of an
// exchange still open when the step ended (the stateful mode's GET stream) is null.
// Exits 0 only if every step succeeded; 1 if one failed; 2 on bad arguments.
//
// The SDK checks every answer: the JSON-RPC id must match a pending request, the result must fit
// the method's schema, and a tool's structuredContent must fit its outputSchema from tools/list.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

function usage(message) {
  console.error(`${message}\nusage: node client.mjs URL [--header 'Name: value']... [--timeout-ms N]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let url;
let timeoutMs = 10_000;
const headers = {};
function addHeader(line) {
  const colon = line.indexOf(':');
  if (colon <= 0) {
    usage(`bad header '${line}': expected 'Name: value'`);
  }
  headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
}
for (const line of (process.env.MCP_CLIENT_HEADERS ?? '').split('\n')) {
  if (line.trim() !== '') {
    addHeader(line);
  }
}
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--header' && i + 1 < args.length) {
    addHeader(args[++i]);
  } else if (args[i] === '--timeout-ms' && i + 1 < args.length) {
    timeoutMs = Number.parseInt(args[++i], 10);
    if (!(timeoutMs > 0)) {
      usage('bad --timeout-ms');
    }
  } else if (!args[i].startsWith('--') && url === undefined) {
    url = args[i];
  } else {
    usage(`unexpected argument '${args[i]}'`);
  }
}
if (url === undefined) {
  usage('no URL');
}
let endpoint;
try {
  endpoint = new URL(url);
} catch {
  usage(`bad URL '${url}'`);
}

let current = null; // the step running now: { http: [], errors: [], fail(error) }
let anyFailed = false;
let closing = false;

function print(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function message(error) {
  return error instanceof Error ? error.message : String(error);
}

async function recordingFetch(input, init) {
  const record = { method: init?.method ?? 'GET', status: null }; // status stays null until answered
  if (typeof init?.body === 'string') {
    try {
      const body = JSON.parse(init.body);
      const messages = Array.isArray(body) ? body : [body];
      record.rpc = messages.map(m => m?.method ?? null);
      record.ids = messages.map(m => m?.id ?? null);
    } catch {
      // not JSON: leave rpc and ids out
    }
  }
  const step = current;
  step?.http.push(record);
  try {
    const response = await fetch(input, init);
    record.status = response.status;
    record.contentType = response.headers.get('content-type');
    record.headers = Object.fromEntries(response.headers);
    return response;
  } catch (error) {
    record.error = message(error);
    throw error;
  }
}

const transport = new StreamableHTTPClientTransport(endpoint, {
  requestInit: { headers },
  fetch: recordingFetch,
  // Never retry a broken stream in a test: report it.
  reconnectionOptions: { maxReconnectionDelay: 1000, initialReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1, maxRetries: 0 }
});
const client = new Client({ name: 'cache-mcp-test-client', version: '1.0.0' });
client.onerror = error => {
  if (closing) {
    return;
  }
  if (current) {
    current.errors.push(message(error));
    current.fail(error); // do not wait for the request's timeout: the step has failed already
  } else {
    anyFailed = true;
    print({ step: 'error', ok: false, error: message(error) });
  }
};

async function step(name, action) {
  let fail;
  const failed = new Promise((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {}); // handled through the race below, or too late to matter
  current = { http: [], errors: [], fail };
  const line = { step: name };
  const started = performance.now();
  try {
    const result = await Promise.race([action(), failed]);
    // Let messages that arrive right after the answer (a duplicate, a second answer) show up here.
    await new Promise(resolve => setImmediate(resolve));
    line.ok = current.errors.length === 0;
    line.result = result;
    if (!line.ok) {
      line.error = current.errors[0];
    }
  } catch (error) {
    line.ok = false;
    line.error = message(error);
  }
  if (current.errors.length > 0) {
    line.errors = current.errors;
  }
  line.http = current.http;
  line.ms = Math.round(performance.now() - started);
  current = null;
  anyFailed ||= !line.ok;
  print(line);
  return line;
}

const options = { timeout: timeoutMs };
const init = await step('initialize', async () => {
  await client.connect(transport, options);
  return {
    protocolVersion: transport.protocolVersion ?? null,
    sessionId: transport.sessionId ?? null,
    serverVersion: client.getServerVersion() ?? null,
    serverCapabilities: client.getServerCapabilities() ?? null
  };
});
if (init.ok) {
  await step('tools/list#1', () => client.listTools(undefined, options));
  await step('tools/list#2', () => client.listTools(undefined, options));
  await step('tools/call:counter#1', () => client.callTool({ name: 'counter', arguments: {} }, undefined, options));
  await step('tools/call:counter#2', () => client.callTool({ name: 'counter', arguments: {} }, undefined, options));
  await step('tools/call:static-info#1', () => client.callTool({ name: 'static-info', arguments: {} }, undefined, options));
  await step('tools/call:static-info#2', () => client.callTool({ name: 'static-info', arguments: {} }, undefined, options));
  await step('prompts/list', () => client.listPrompts(undefined, options));
  const resources = await step('resources/list', () => client.listResources(undefined, options));
  await step('resources/read', () => {
    const uri = resources.result?.resources?.[0]?.uri;
    if (!uri) {
      throw new Error('resources/list listed no resource to read');
    }
    return client.readResource({ uri }, options);
  });
}

closing = true;
try {
  await client.close();
} catch {
  // the verdict is in already
}
process.exit(anyFailed ? 1 : 0);
