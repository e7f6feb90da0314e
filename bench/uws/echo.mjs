// A uWebSockets.js echo server for bench/run.sh: every message goes back to its sender, text as text and binary as
// binary, with compression off (or, with --compression, permessage-deflate with uWebSockets' shared or dedicated
// compressor, replies sent compressed) and limits high enough for the bench's messages.
// Usage: node echo.mjs [--port N] [--stats] [--compression shared|dedicated] [--tls-cert CERT.pem --tls-key KEY.pem]
// With --tls-cert and --tls-key it serves wss:// through uWebSockets' SSLApp (OpenSSL inside the loop).
// With --stats it prints `stats messages=<echoed so far>` once a second (there is no managed allocation figure to
// give, so the bench shows n/a for it).
// uWebSockets.js is the Node.js binding of uWebSockets (C++, epoll on Linux); its npm name is uws-pack, a repack
// of the project's own release binaries.
import { App, SSLApp, DISABLED, SHARED_COMPRESSOR, DEDICATED_COMPRESSOR } from 'uws-pack';

let port = 9001;
let stats = false;
let compression = DISABLED;
let tlsCert = null;
let tlsKey = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port' && i + 1 < args.length) port = Number(args[++i]);
  else if (args[i] === '--stats') stats = true;
  else if (args[i] === '--compression' && ['shared', 'dedicated'].includes(args[i + 1]))
    compression = args[++i] === 'shared' ? SHARED_COMPRESSOR : DEDICATED_COMPRESSOR;
  else if (args[i] === '--tls-cert' && i + 1 < args.length) tlsCert = args[++i];
  else if (args[i] === '--tls-key' && i + 1 < args.length) tlsKey = args[++i];
  else {
    console.error('usage: node echo.mjs [--port N] [--stats] [--compression shared|dedicated] [--tls-cert CERT.pem --tls-key KEY.pem]');
    process.exit(2);
  }
}

let messages = 0;
const app = tlsCert ? SSLApp({ cert_file_name: tlsCert, key_file_name: tlsKey }) : App();
app
  .ws('/*', {
    compression,
    maxPayloadLength: 16 * 1024 * 1024,
    maxBackpressure: 64 * 1024 * 1024,
    idleTimeout: 0,
    message: (ws, message, isBinary) => {
      messages++;
      ws.send(message, isBinary, compression !== DISABLED);
    },
  })
  .listen('127.0.0.1', port, (listenSocket) => {
    if (!listenSocket) {
      console.error(`cannot listen on 127.0.0.1:${port}`);
      process.exit(1);
    }
    console.log(`listening on ${tlsCert ? 'wss' : 'ws'}://127.0.0.1:${port}/`);
  });

if (stats) setInterval(() => console.log(`stats messages=${messages}`), 1000);
