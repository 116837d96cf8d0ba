// node node_servers.js H1_PORT H2C_PORT WS_PORT -- peers for the client interop checks:
// node:http echo (HTTP/1.1), node:http2 echo with RFC 8441 WebSocket echo (h2c prior
// knowledge, SETTINGS_ENABLE_CONNECT_PROTOCOL), and a 'ws' echo server (HTTP/1.1 Upgrade).
const http = require('node:http');
const http2 = require('node:http2');
const path = require('node:path');
const { WebSocketServer } = require(path.join(process.env.NODE_MODULES, 'ws'));
const [h1Port, h2Port, wsPort] = process.argv.slice(2).map(Number);

const echo = (req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('content-type', 'application/octet-stream');
    res.end(body.length ? body : `node proto=${req.httpVersion}\n`);
  });
};
http.createServer(echo).listen(h1Port, '127.0.0.1');

const h2 = http2.createServer({ settings: { enableConnectProtocol: true } });
// A peer that resets its TCP connection must not take the whole server down.
h2.on('sessionError', () => {});
h2.on('session', s => s.on('error', () => {}));
h2.on('stream', (stream, h) => {
  stream.on('error', () => {});
  if (h[':method'] === 'CONNECT' && h[':protocol'] === 'websocket') {
    stream.respond({ ':status': 200 });
    let buf = Buffer.alloc(0);
    stream.on('data', d => {
      buf = Buffer.concat([buf, d]);
      // Client frames: FIN+opcode, MASK|len (< 126 here), 4-octet mask, payload.
      while (buf.length >= 6 && buf.length >= 6 + (buf[1] & 0x7f)) {
        const op = buf[0] & 0x0f, len = buf[1] & 0x7f, mask = buf.subarray(2, 6);
        const payload = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]));
        buf = buf.subarray(6 + len);
        if (op === 8) { stream.end(Buffer.from([0x88, 0])); return; }
        if (op !== 1) continue;
        const out = Buffer.from('node-h2-echo:' + payload);
        stream.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
      }
    });
    return;
  }
  const chunks = [];
  stream.on('data', c => chunks.push(c));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    stream.end(body.length ? body : 'node proto=2.0\n');
  });
});
h2.listen(h2Port, '127.0.0.1');

const wss = new WebSocketServer({ host: '127.0.0.1', port: wsPort });
wss.on('connection', ws => {
  ws.on('error', () => {});
  ws.on('message', (m, bin) => ws.send(bin ? m : 'node-ws-echo:' + m, { binary: bin }));
});
wss.on('listening', () => console.log('listening'));
