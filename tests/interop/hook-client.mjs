// Drives the upgrade-hook test server (tests/WsGen.Runtime.Tests/Server/UpgradeHookTests.cs) with the npm `ws`
// client: refused without a token (401, its header and body), accepted with the token in the query string, in an
// Authorization header or in a cookie; the name attached at the upgrade comes back with every message.
// usage: node hook-client.mjs ws://127.0.0.1:PORT
// Prints one line per check and exits non-zero at the first failure.
import WebSocket from 'ws';

const base = process.argv[2];
if (!base) {
  console.error('usage: node hook-client.mjs ws://host:port');
  process.exit(2);
}

function refused(url, headers) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => reject(new Error(`${url} was accepted`)));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    ws.once('error', () => {});
  });
}

function accepted(url, headers, name) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const messages = [];
    ws.once('upgrade', (res) => {
      if (res.headers['x-hook'] !== 'accepted') reject(new Error('the hook\'s header is missing from the 101'));
    });
    ws.on('message', (data) => {
      messages.push(data.toString());
      if (messages.length === 1) ws.send('from node');
      if (messages.length === 2) {
        ws.close();
        if (messages[0] !== `hello ${name}`) reject(new Error(`expected the state ${name}, got ${messages[0]}`));
        else if (messages[1] !== `${name}: from node`) reject(new Error(`got ${messages[1]}`));
        else resolve();
      }
    });
    ws.once('error', reject);
  });
}

const plain = await refused(`${base}/room?name=node`, {});
if (plain.status !== 401 || plain.headers['www-authenticate'] !== 'Bearer' || plain.body !== 'token required')
  throw new Error(`refusal: ${plain.status} ${JSON.stringify(plain.headers)} ${plain.body}`);
console.log('ok refused without a token (401, header, body)');
const wrong = await refused(`${base}/room?token=wrong`, { Authorization: 'Bearer wrong' });
if (wrong.status !== 401) throw new Error(`wrong token: ${wrong.status}`);
console.log('ok refused with wrong tokens');
await accepted(`${base}/room?token=s3cret&name=node-query`, {}, 'node-query');
console.log('ok accepted with a query token');
await accepted(`${base}/room?name=node-bearer`, { Authorization: 'Bearer s3cret' }, 'node-bearer');
console.log('ok accepted with a bearer token');
await accepted(`${base}/room?name=node-cookie`, { Cookie: 'session=s3cret' }, 'node-cookie');
console.log('ok accepted with a session cookie');
console.log('all ok');
