// Loads a page in headless Chromium over the DevTools protocol (on a pipe: no port to pick,
// no polling), then prints what the browser saw and saves a screenshot.
//
//   node chromium_listing.js URL SCREENSHOT.png PROFILE_DIR NAME...
//
// Prints one JSON line {proto, title, links}; exits 0 only when the navigation's
// nextHopProtocol is "h2" and every NAME is a link on the rendered page. Exits 1 on any
// error or after 60 s.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

const [url, screenshot, profile, ...names] = process.argv.slice(2);
if (!url || !screenshot || !profile) {
  console.error('usage: node chromium_listing.js URL SCREENSHOT.png PROFILE_DIR NAME...');
  process.exit(2);
}

const chrome = spawn('chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--ignore-certificate-errors',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', `--user-data-dir=${profile}`,
  '--remote-debugging-pipe', '--window-size=1000,700', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
chrome.stderr.on('data', (d) => { stderr += d; });
const fail = (why) => {
  console.error(`chromium check failed: ${why}`);
  if (stderr) console.error(stderr.split('\n').filter((l) => !/dbus|unexpected operator/.test(l)).slice(-20).join('\n'));
  chrome.kill('SIGKILL');
  process.exit(1);
};
const timer = setTimeout(() => fail('no result within 60 s'), 60000);
chrome.on('exit', (code) => { if (!done) fail(`chromium exited (${code}) early`); });

// The protocol: JSON messages separated by NUL, commands on fd 3, answers on fd 4.
const toChrome = chrome.stdio[3];
const fromChrome = chrome.stdio[4];
let nextId = 1;
const waiting = new Map();
const listeners = [];
let pending = Buffer.alloc(0);
let done = false;
fromChrome.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  let end;
  while ((end = pending.indexOf(0)) >= 0) {
    const message = JSON.parse(pending.subarray(0, end).toString('utf8'));
    pending = pending.subarray(end + 1);
    if (message.id && waiting.has(message.id)) {
      const { resolve, reject } = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    } else if (message.method) {
      for (const listener of listeners) listener(message);
    }
  }
});
function send(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  const message = { id, method, params };
  if (sessionId) message.sessionId = sessionId;
  toChrome.write(JSON.stringify(message) + '\0');
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}
function event(method, sessionId) {
  return new Promise((resolve) => {
    listeners.push((m) => { if (m.method === method && m.sessionId === sessionId) resolve(m.params); });
  });
}

(async () => {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, sessionId);
  const loaded = event('Page.loadEventFired', sessionId);
  const nav = await send('Page.navigate', { url }, sessionId);
  if (nav.errorText) fail(`navigation: ${nav.errorText}`);
  await loaded;
  const expression = `JSON.stringify({
    proto: performance.getEntriesByType('navigation')[0].nextHopProtocol,
    title: document.title,
    links: [...document.querySelectorAll('a')].map((a) => a.textContent),
  })`;
  const { result } = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
  const seen = JSON.parse(result.value);
  const { data } = await send('Page.captureScreenshot', { format: 'png' }, sessionId);
  const png = Buffer.from(data, 'base64');
  fs.writeFileSync(screenshot, png);
  console.log(JSON.stringify(seen));
  done = true;
  // Let the browser finish with its profile before the caller deletes it.
  const exited = new Promise((resolve) => chrome.on('exit', resolve));
  await send('Browser.close').catch(() => {});
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10000))]);
  chrome.kill('SIGKILL');
  clearTimeout(timer);
  const missing = names.filter((n) => !seen.links.includes(n));
  if (seen.proto !== 'h2') fail(`nextHopProtocol is ${seen.proto}, not h2`);
  if (missing.length) fail(`the page does not list ${missing.join(', ')}`);
  if (png.subarray(1, 4).toString() !== 'PNG' || png.length < 1000) fail('no PNG screenshot');
  console.log(`screenshot: ${screenshot} (${png.length} octets)`);
  process.exit(0);
})().catch((e) => fail(e.stack || String(e)));
