// A real backend for the gateway's tests: Node.js's own HTTP server at its defaults, which closes
// idle keep-alive connections after 5 s (server.keepAliveTimeout), as most Node services do.
//
//   node echo-server.mjs
//
// Listens on 127.0.0.1, a free port, and prints "LISTENING <port>" once it accepts connections.
// Reads commands from stdin, one a line, and exits when stdin closes (so it dies with its JVM):
//   GO    lets every /events stream that is waiting send its first event
//
// Routes:
//   /events  an event stream: the head goes out at once (res.flushHeaders()); the first event only
//            after a GO command, then a second one, then the end
//   *        anything else: 200 text/plain "<METHOD> <path> <body>"
import http from 'node:http';
import readline from 'node:readline';

const waiting = [];

const server = http.createServer((req, res) => {
  if (req.url === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.flushHeaders();
    waiting.push(() => {
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: second\n\n'), 10);
    });
    return;
  }
  const chunks = [];
  req.on('data', chunk => chunks.push(chunk));
  req.on('end', () => {
    const text = `${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8')}`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});

const commands = readline.createInterface({ input: process.stdin });
commands.on('line', line => {
  if (line.trim() === 'GO') {
    while (waiting.length > 0) {
      waiting.shift()();
    }
  }
});
commands.on('close', () => process.exit(0));
