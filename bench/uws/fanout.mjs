// A uWebSockets.js chat room for bench/fanout.sh: every connection subscribes to one topic when it opens, and
// every message is published to that topic with the app's publish (the sender included), as uWebSockets'
// broadcast benchmark does. Compression off, limits high enough for the bench.
// Usage: node fanout.mjs [--port N]
import { App, DISABLED } from 'uws-pack';

let port = 9001;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port' && i + 1 < args.length) port = Number(args[++i]);
  else {
    console.error('usage: node fanout.mjs [--port N]');
    process.exit(2);
  }
}

const app = App();
app
  .ws('/*', {
    compression: DISABLED,
    maxPayloadLength: 16 * 1024,
    maxBackpressure: 64 * 1024 * 1024,
    idleTimeout: 0,
    open: (ws) => ws.subscribe('room'),
    message: (ws, message, isBinary) => app.publish('room', message, isBinary),
  })
  .listen('127.0.0.1', port, (listenSocket) => {
    if (!listenSocket) {
      console.error(`cannot listen on 127.0.0.1:${port}`);
      process.exit(1);
    }
    console.log(`listening on ws://127.0.0.1:${port}/`);
  });
