// Opens many WebSocket connections to a WsGen endpoint whose connections are all subscribed to one topic, then
// checks that each receives every published message, in order.
// usage: node topic-subscribers.mjs ws://127.0.0.1:PORT/path CONNECTIONS MESSAGES
// Prints "open N" once every connection is open (the test publishes then), then "ok DELIVERIES" and exits 0 when
// every connection got messages "m0" .. "m<MESSAGES-1>" in order; prints the first problem and exits 1 otherwise.
import WebSocket from 'ws';

const [url, connArg, msgArg] = process.argv.slice(2);
const connections = Number(connArg);
const messages = Number(msgArg);
if (!url || !(connections > 0) || !(messages > 0)) {
  console.error('usage: node topic-subscribers.mjs ws://host:port/path CONNECTIONS MESSAGES');
  process.exit(2);
}

function fail(text) {
  console.log('FAIL ' + text);
  process.exit(1);
}

let opened = 0;
let finished = 0;
let deliveries = 0;
const sockets = [];

function open(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let next = 0;
    ws.on('open', () => { opened++; resolve(); });
    ws.on('error', (e) => fail(`connection ${i}: ${e.message}`));
    ws.on('close', (code) => { if (next < messages) fail(`connection ${i} closed (${code}) after ${next} messages`); });
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (isBinary || text !== 'm' + next) fail(`connection ${i}: got ${text} where m${next} was due`);
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

// At most 500 handshakes in flight at once.
for (let start = 0; start < connections; start += 500) {
  const batch = [];
  for (let i = start; i < Math.min(start + 500, connections); i++) batch.push(open(i));
  await Promise.all(batch);
}
console.log('open ' + opened);
