// Preloaded with `node --import ./loopback.mjs SCRIPT`: makes a server that would listen on every
// interface (express's app.listen(PORT), as @modelcontextprotocol/server-everything does) listen
// on 127.0.0.1 only, so tests never open a port to the network, and prints "LISTENING <port>" on
// stdout once it accepts connections (PORT=0 picks a free port, whose number the server's own log
// line would not tell).
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const port = Number(args[0]);
    const rest = args.slice(1);
    const host = typeof rest[0] === 'string' ? rest.shift() : undefined;
    args = [port, host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, ...rest];
  }
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') {
      console.log(`LISTENING ${address.port}`);
    }
  });
  return listen.apply(this, args);
};
