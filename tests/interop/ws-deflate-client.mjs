// Drives a WsGen echo server with the npm `ws` client and permessage-deflate: checks that the extension was agreed,
// then that compressed messages of many sizes (JSON-like text, and binary) come back byte for byte.
// usage: node ws-deflate-client.mjs ws://127.0.0.1:PORT/path
// Prints one line per check and exits non-zero at the first failure.
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';

const url = process.argv[2];
if (!url) {
  console.error('usage: node ws-deflate-client.mjs ws://host:port/path');
  process.exit(2);
}

// threshold 0: ws compresses every message, however small.
const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0, clientMaxWindowBits: true }, maxPayload: 64 * 1024 * 1024 });
await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
if (typeof ws.extensions !== 'string' || !ws.extensions.startsWith('permessage-deflate'))
  throw new Error(`permessage-deflate was not agreed: extensions='${ws.extensions}'`);
console.log(`ok agreed: ${ws.extensions}`);

function echo(data, isBinary) {
  return new Promise((resolve, reject) => {
    ws.once('message', (got, gotBinary) => {
      const expected = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
      if (gotBinary !== isBinary) reject(new Error(`type: sent binary=${isBinary}, got binary=${gotBinary}`));
      else if (!expected.equals(Buffer.from(got))) reject(new Error(`${expected.length} bytes came back different (${got.length} bytes)`));
      else resolve();
    });
    ws.send(data, { binary: isBinary, compress: true });
  });
}

function json(size, seed) {
  let s = '[';
  for (let i = 0; s.length < size; i++)
    s += `${i ? ',' : ''}{"id":${(seed * 7919 + i * 104729) % 1000003},"user":"user${(seed + i) % 5000}","tags":["x","live"],"ok":${(seed + i) % 2 === 0}}`;
  return s.slice(0, size);
}

let seed = 0;
for (const size of [1, 100, 1024, 16384, 65536, 1 << 20]) {
  for (let i = 0; i < 5; i++) await echo(json(size, seed++), false);
  await echo(randomBytes(size), true);
  console.log(`ok ${size} B`);
}
ws.close(1000);
await new Promise((resolve) => ws.once('close', resolve));
console.log('all ok');
