// node undici_pipeline.js <origin> -- undici with real HTTP/1.1 pipelining (3 in flight);
// responses must come back in order, each for its own request.
const { Client } = require('undici');
const c = new Client(process.argv[2], { pipelining: 3 });
Promise.all([1, 2, 3].map(i => c.request({ path: '/echo', method: 'POST', body: `pipelined-${i}`, blocking: false })
  .then(async r => `${r.statusCode}:${await r.body.text()}`)))
  .then(out => {
    console.log(out.join(' | '));
    const ok = out.every((s, i) => s === `200:pipelined-${i + 1}`);
    return c.close().then(() => process.exit(ok ? 0 : 1));
  })
  .catch(e => { console.error(e); process.exit(1); });
