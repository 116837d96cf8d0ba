// node node_h2_echo.js <origin> -- Node http2 client: 12 concurrent POSTs to /echo with
// bodies larger than the default windows; every echo must match byte for byte.
const http2 = require('node:http2');
const crypto = require('node:crypto');
const session = http2.connect(process.argv[2]);
session.on('error', e => { console.error(e); process.exit(1); });
const N = 12;
let done = 0, failed = 0;
for (let i = 0; i < N; i++) {
  const body = crypto.randomBytes(200000 + i * 50000);
  const req = session.request({ ':method': 'POST', ':path': '/echo' });
  const chunks = [];
  req.on('data', d => chunks.push(d));
  req.on('end', () => {
    const echoed = Buffer.concat(chunks);
    if (!echoed.equals(body)) { failed++; console.error(`stream ${i}: ${echoed.length} != ${body.length}`); }
    if (++done === N) { session.close(); console.log(`${N - failed}/${N} echoed`); process.exit(failed ? 1 : 0); }
  });
  req.end(body);
}
