// Opens WebSocket connections with permessage-deflate to a WsGen endpoint whose connections are all subscribed to one
// topic, while the server publishes to the topic and sends to each connection directly, interleaved; checks that each
// connection gets every message, whole and in order (compressed or not, as the server chose).
// usage: node topic-deflate-subscribers.mjs ws://127.0.0.1:PORT/path CONNECTIONS MESSAGES
// Prints "open N EXTENSIONS" (the server's Sec-WebSocket-Extensions) once every connection is open, then "ok DELIVERIES" and exits 0 when every connection got
// messages 0 .. MESSAGES-1; prints the first problem and exits 1 otherwise. Message i is made by expected(i), as the
// test makes it: text or binary, 8 B to 40 KB, "p" (published) or "d" (sent directly).
import WebSocket from 'ws';

const [url, connArg, msgArg] = process.argv.slice(2);
const connections = Number(connArg);
const messages = Number(msgArg);
if (!url || !(connections > 0) || !(messages > 0)) {
  console.error('usage: node topic-deflate-subscribers.mjs ws://host:port/path CONNECTIONS MESSAGES');
  process.exit(2);
}

const SIZES = [8, 300, 5000, 40000];
function expected(i) {
  const size = SIZES[i % 4];
  if (i % 3 === 2) {
    const bytes = Buffer.alloc(size);
    for (let j = 0; j < size; j++) bytes[j] = (i + (j % 61)) & 0xff;
    return { binary: true, data: bytes };
  }
  let s = (i % 5 === 4 ? 'd' : 'p') + i + ':';
  while (s.length < size) s += `{"n":${i},"v":"abcdefgh"}`;
  return { binary: false, data: Buffer.from(s.slice(0, size)) };
}

function fail(text) {
  console.log('FAIL ' + text);
  process.exit(1);
}

let finished = 0;
let deliveries = 0;
const sockets = [];
let extensions = '';

function open(k) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: true });
    let next = 0;
    ws.on('upgrade', (response) => { extensions = response.headers['sec-websocket-extensions']; });
    ws.on('open', resolve);
    ws.on('error', (e) => fail(`connection ${k}: ${e.message}`));
    ws.on('close', (code) => { if (next < messages) fail(`connection ${k} closed (${code}) after ${next} messages`); });
    ws.on('message', (data, isBinary) => {
      const want = expected(next);
      if (isBinary !== want.binary || !want.data.equals(Buffer.from(data)))
        fail(`connection ${k}: message ${next} differs (${data.length} bytes, binary ${isBinary})`);
      next++;
      deliveries++;
      if (next === messages && ++finished === connections) {
        console.log('ok ' + deliveries);
        for (const s of sockets) s.terminate();
        process.exit(0);
      }
    });
    sockets.push(ws);
  });
}

await Promise.all(Array.from({ length: connections }, (_, k) => open(k)));
console.log(`open ${connections} ${extensions}`);
