// A real MCP server (the official TypeScript SDK) for the cache-mcp plugin's tests.
//
//   node server.mjs PORT [--json] [--stateful] [--control-stdin]
//
// PORT 0 picks a free port. Listens on 127.0.0.1 and serves MCP (Streamable HTTP) on every path,
// so it answers whatever path the gateway forwards (/peer/mcp/mcp arrives as /mcp).
//   --json           answer POSTs with application/json (enableJsonResponse) instead of an SSE stream
//                    (also MCP_JSON_RESPONSE=1)
//   --stateful       hand out Mcp-Session-Id and keep one server per session (also MCP_STATEFUL=1);
//                    stateless by default: a new McpServer and transport for every request, as in the
//                    SDK's stateless example, and 405 for GET and DELETE
//   --control-stdin  read commands from stdin, one a line, and exit when it closes (so the server dies
//                    with the JVM that started it). 'SYNC <n>' prints 'SYNC <n>': once the reader sees
//                    it, it has seen every line printed before, such as the REQUEST lines of all
//                    answered requests.
//
// stdout, one line each (McpNode.java reads them):
//   LISTENING <port>           once, when it accepts connections
//   REQUEST <method> <id> [<name>]  every JSON-RPC request received (batches: one line per request);
//                              <name> is the tool or prompt name, or the resource URI, when there is one
//   NOTIFICATION <method>      every JSON-RPC notification received
//   SYNC <n>                   the answer to a SYNC command (--control-stdin)
// Anything else (HTTP GET/DELETE, errors) goes to stderr.
//
// Tools: echo (returns its text), counter (how many times it has been called in this process: a side
// effect, never cacheable), static-info (a constant, with structured content and an output schema).
// Resource: info://static (text). Prompt: greeting (argument: name).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

const args = process.argv.slice(2);
const portArg = args.find(a => !a.startsWith('--')) ?? '0';
const port = Number.parseInt(portArg, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`usage: node server.mjs PORT [--json] [--stateful] [--control-stdin] (bad port '${portArg}')`);
  process.exit(2);
}
const known = new Set(['--json', '--stateful', '--control-stdin']);
for (const a of args.filter(a => a.startsWith('--'))) {
  if (!known.has(a)) {
    console.error(`unknown option ${a}; known: ${[...known].join(' ')}`);
    process.exit(2);
  }
}
const jsonResponse = args.includes('--json') || process.env.MCP_JSON_RESPONSE === '1';
const stateful = args.includes('--stateful') || process.env.MCP_STATEFUL === '1';

const STATIC_INFO = { name: 'portal-gateway-test-server', build: 42, features: ['tools', 'resources', 'prompts'] };
let counterCalls = 0; // per process, not per McpServer: stateless mode makes a server per request

function newServer() {
  const server = new McpServer({ name: 'cache-mcp-test-server', version: '1.0.0' });
  server.registerTool('echo', {
    description: 'Returns the text it is given',
    inputSchema: { text: z.string().describe('Text to echo') }
  }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('counter', {
    description: 'Returns how many times it has been called (a side effect: never cacheable)'
  }, async () => {
    counterCalls += 1;
    return { content: [{ type: 'text', text: String(counterCalls) }] };
  });
  server.registerTool('static-info', {
    description: 'Returns the same information every time',
    outputSchema: {
      name: z.string(),
      build: z.number(),
      features: z.array(z.string())
    }
  }, async () => ({
    content: [{ type: 'text', text: JSON.stringify(STATIC_INFO) }],
    structuredContent: STATIC_INFO
  }));
  server.registerResource('static-info', 'info://static', {
    description: 'A constant text resource',
    mimeType: 'text/plain'
  }, async uri => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'static resource text' }] }));
  server.registerPrompt('greeting', {
    description: 'A greeting prompt',
    argsSchema: { name: z.string().describe('Whom to greet') }
  }, async ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Please greet ${name}.` } }]
  }));
  return server;
}

function logMessages(body) {
  for (const message of Array.isArray(body) ? body : [body]) {
    if (message === null || typeof message !== 'object' || typeof message.method !== 'string') {
      continue; // a response from the client, or garbage the transport will reject
    }
    if ('id' in message && message.id !== undefined && message.id !== null) {
      const id = typeof message.id === 'string' ? message.id : JSON.stringify(message.id);
      const target = message.params?.name ?? message.params?.uri; // tools/call, prompts/get; resources/read
      console.log(`REQUEST ${message.method} ${id}${typeof target === 'string' ? ' ' + target : ''}`);
    } else {
      console.log(`NOTIFICATION ${message.method}`);
    }
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendError(res, status, code, message) {
  if (!res.headersSent) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
  }
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

const sessions = new Map(); // stateful mode: session id -> transport

async function handleStateless(req, res, body) {
  if (req.method !== 'POST') {
    sendError(res, 405, -32000, 'Method not allowed.'); // no standalone SSE stream, no sessions to end
    return;
  }
  const server = newServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: jsonResponse });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

async function handleStateful(req, res, body) {
  const sessionId = req.headers['mcp-session-id'];
  let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
  if (!transport) {
    if (sessionId !== undefined) {
      sendError(res, 404, -32001, 'Session not found');
      return;
    }
    if (req.method !== 'POST' || !(isInitializeRequest(body) || (Array.isArray(body) && body.some(isInitializeRequest)))) {
      sendError(res, 400, -32000, 'Bad Request: no valid session ID provided');
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: jsonResponse,
      onsessioninitialized: id => sessions.set(id, transport)
    });
    transport.onclose = () => {
      if (transport.sessionId) {
        sessions.delete(transport.sessionId);
      }
    };
    await newServer().connect(transport);
  }
  await transport.handleRequest(req, res, body);
}

const httpServer = http.createServer(async (req, res) => {
  try {
    let body;
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = JSON.parse(text);
      } catch {
        console.error(`HTTP POST ${req.url}: body is not JSON: ${text.slice(0, 200)}`);
        sendError(res, 400, -32700, 'Parse error');
        return;
      }
      logMessages(body);
    } else {
      console.error(`HTTP ${req.method} ${req.url}`);
    }
    await (stateful ? handleStateful(req, res, body) : handleStateless(req, res, body));
  } catch (error) {
    console.error(`error handling ${req.method} ${req.url}:`, error);
    sendError(res, 500, -32603, 'Internal server error');
  }
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`LISTENING ${httpServer.address().port}`);
  console.error(`MCP test server: ${stateful ? 'stateful' : 'stateless'}, ${jsonResponse ? 'JSON' : 'SSE'} responses`);
});

function shutdown() {
  for (const transport of sessions.values()) {
    transport.close();
  }
  httpServer.closeAllConnections?.();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args.includes('--control-stdin')) {
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', chunk => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const command = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (/^SYNC \S+$/.test(command)) {
        console.log(command); // stdout is synchronous for pipes and files: it follows every line before it
      } else if (command !== '') {
        console.error(`unknown stdin command '${command}'`);
      }
    }
  });
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
}
