// RFC 8441 client (Node `http2`, h2c prior knowledge): waits for
// SETTINGS_ENABLE_CONNECT_PROTOCOL, opens an extended CONNECT with `:protocol: websocket`,
// sends one masked text frame and checks the echoed frame.
// Usage: node h2_websocket.js http://HOST:PORT PREFIX
const http2 = require('http2');
const [origin, prefix] = process.argv.slice(2);
const message = 'hello over h2';
const expected = prefix + message;
const fail = (why) => { console.error('FAIL', why); process.exit(1); };
const timer = setTimeout(() => fail('timeout'), 10000);

function maskedText(text) {
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]);
  for (let i = 0; i < payload.length; i++) frame[6 + i] ^= mask[i % 4];
  return frame;
}

const session = http2.connect(origin);
session.on('error', (e) => fail(e.message));
session.once('remoteSettings', (settings) => {
  if (!settings.enableConnectProtocol) fail('peer did not send SETTINGS_ENABLE_CONNECT_PROTOCOL=1');
  const req = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': '/ws',
    ':authority': new URL(origin).host,
    'sec-websocket-version': '13',
  });
  req.on('error', (e) => fail(e.message));
  req.on('response', (headers) => {
    console.log('status', headers[':status']);
    if (headers[':status'] !== 200) fail('status ' + headers[':status']);
    req.write(maskedText(message));
  });
  let buf = Buffer.alloc(0);
  req.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const len = buf.length >= 2 ? buf[1] & 0x7f : Infinity;
    if (buf.length < 2 + len) return;
    const text = buf.subarray(2, 2 + len).toString();
    console.log('ws frame opcode', buf[0] & 0x0f, 'text:', text);
    if ((buf[0] & 0x0f) !== 1 || text !== expected) fail(`expected ${expected}`);
    clearTimeout(timer);
    req.close();
    session.close(() => process.exit(0));
  });
});
