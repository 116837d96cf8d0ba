// WebSocket client (npm `ws`, RFC 6455 over HTTP/1.1 Upgrade): sends a text message and checks
// the echo. Usage: node ws_client.js ws://HOST:PORT/path PREFIX
const WebSocket = require('ws');
const [url, prefix] = process.argv.slice(2);
const expected = prefix + 'hello from node ws';
const fail = (why) => { console.error('FAIL', why); process.exit(1); };
const timer = setTimeout(() => fail('timeout'), 10000);
let got = false;
const ws = new WebSocket(url);
ws.on('open', () => ws.send('hello from node ws'));
ws.on('message', (data) => {
  const text = data.toString();
  console.log(text);
  if (text !== expected) fail(`expected ${expected}`);
  got = true;
  ws.close();
});
ws.on('close', () => {
  clearTimeout(timer);
  if (!got) fail('closed before the echo');
  process.exit(0);
});
ws.on('error', (e) => fail(e.message));
