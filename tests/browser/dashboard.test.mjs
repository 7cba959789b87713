// dashboard.test.mjs: the web dashboard in a real browser (Debian's Chromium,
// driven by playwright-core over CDP) against a real `vidgate run`.
//
//   node dashboard.test.mjs VIDGATE_BIN OUT_DIR [BASE_URL]
//
// Uploads a clip through the form and watches it reach `processed` live (no
// reload), opens it (poster, plots, QC checks, player, seek strip), re-runs a
// broken file from its page, and sees the alarm banner when a video comes
// without its sidecar. Screenshots of each step go to OUT_DIR, with
// vidgate's log and the address it served on (OUT_DIR/address.txt).
// BASE_URL points the browser elsewhere (a proxy in front of that address);
// by default it opens vidgate itself.
//
// Exit 0 when every step passed, 1 otherwise, with one line per failed step.
// Everything it starts is stopped, whatever happens, within 240 s.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LIMIT_MS = 240_000;
const TOKEN = 'browser-test-token-0123456789';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

const [binArg, outArg, baseArg] = process.argv.slice(2);
if (!binArg || !outArg) {
  console.error('usage: node dashboard.test.mjs VIDGATE_BIN OUT_DIR [BASE_URL]');
  process.exit(2);
}
// vidgate runs in a folder of its own: a relative path is made absolute.
const vidgateBin = path.resolve(binArg);
const outDir = path.resolve(outArg);
fs.mkdirSync(outDir, { recursive: true });

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vidgate-browser-'));
const data = path.join(work, 'data');
const uploads = path.join(data, 'uploads');
const logPath = path.join(work, 'vidgate.log');
let vidgate = null;
let browser = null;
let cleaned = false;

const results = []; // {name, ok, message}
const pageErrors = [];

const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- cleaning up, on every way out -------------------------------------------

function killVidgate(signal) {
  if (vidgate && vidgate.exitCode === null && vidgate.signalCode === null) {
    try {
      vidgate.kill(signal);
    } catch {
      // already gone
    }
  }
}

async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
  if (vidgate) {
    killVidgate('SIGTERM');
    const deadline = Date.now() + 5000;
    while (vidgate.exitCode === null && vidgate.signalCode === null && Date.now() < deadline) await sleep(50);
    killVidgate('SIGKILL');
  }
  try {
    fs.copyFileSync(logPath, path.join(outDir, 'vidgate.log'));
  } catch {
    // vidgate never started
  }
  fs.rmSync(work, { recursive: true, force: true });
}

// A last resort when the event loop is gone: no waiting, just kill.
process.on('exit', () => killVidgate('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.log(`FAIL interrupted by ${sig}`);
    await cleanup();
    process.exit(1);
  });
}
const limit = setTimeout(async () => {
  console.log(`FAIL time limit: the test ran over ${LIMIT_MS / 1000} s`);
  await cleanup();
  process.exit(1);
}, LIMIT_MS);

// --- steps -----------------------------------------------------------------------

let page = null;

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return true;
  } catch (err) {
    const message = String((err && err.message) || err).split('\n')[0];
    results.push({ name, ok: false, message });
    console.log(`FAIL ${name}: ${message}`);
    if (page) await page.screenshot({ path: path.join(outDir, `failed-${name}.png`), fullPage: true }).catch(() => {});
    return false;
  }
}

function skip(name, why) {
  results.push({ name, ok: false, message: `skipped: ${why}` });
  console.log(`FAIL ${name}: skipped: ${why}`);
}

function ffmpeg(...args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

// A 2 s H.264/AAC MP4: testsrc2 320x240 and a sine.
function makeClip(file, frequency) {
  ffmpeg(
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2',
    '-f', 'lavfi', '-i', `sine=frequency=${frequency}:duration=2`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
    '-movflags', '+faststart', file,
  );
}

// vidgate says where it serves on stderr: "serving http://ADDR/ (...)"
// (tests/e2e/harness.cc ServedAddress reads the same line).
async function servedAddress(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const log = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '';
    const m = /serving http:\/\/([^/\s]+)\//.exec(log);
    if (m) return m[1];
    if (vidgate.exitCode !== null || vidgate.signalCode !== null) {
      throw new Error(`vidgate run exited (${vidgate.exitCode ?? vidgate.signalCode}): ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await sleep(50);
  }
  throw new Error('vidgate run did not say where it serves');
}

const shot = (name) => page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
const row = (name) => `[data-testid="video-row"][data-name="${name}"]`;

// --- the run -----------------------------------------------------------------------

const clipUpload = path.join(work, 'browser-upload.mp4');
const clipDrop = path.join(work, 'no-sidecar.mp4');
let address = '';
let base = '';

const okStart = await step('start', async () => {
  fs.mkdirSync(uploads, { recursive: true });
  const config = path.join(work, 'vidgate.toml');
  fs.writeFileSync(
    config,
    `[storage]
url = "file://${data}"
settle_seconds = 0.2

[metadata]
wait_seconds = 2

[intake]
poll_seconds = 0.2

[server]
listen = "0.0.0.0:0"
token = "env:VIDGATE_TEST_TOKEN"

[[alarm]]
name = "sidecars-missing"
metric = "metadata_missing"
above = 0
interval_seconds = 0.5
`,
  );
  makeClip(clipUpload, 440);
  makeClip(clipDrop, 880);
  // Not a video at all: lands in unable_to_process on its first attempt.
  fs.writeFileSync(path.join(uploads, 'broken.json'), JSON.stringify({ title: 'Broken' }));
  fs.writeFileSync(path.join(uploads, 'broken.mp4'), randomBytes(8192));

  const log = fs.openSync(logPath, 'w');
  vidgate = spawn(vidgateBin, ['--config', config, 'run'], {
    stdio: ['ignore', log, log],
    cwd: work,
    env: { ...process.env, VIDGATE_TEST_TOKEN: TOKEN },
  });
  fs.closeSync(log);
  // Served on every address with a token: reads need it too, so the page
  // asks for it, and its pictures and player need the session cookie.
  address = (await servedAddress(20000)).replace(/^0\.0\.0\.0:/, '127.0.0.1:');
  fs.writeFileSync(path.join(outDir, 'address.txt'), `${address}\n`);
  base = baseArg || `http://${address}/`;
});

const okBrowser =
  okStart &&
  (await step('open', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30000 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(20000);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const res = await page.goto(base);
    if (!res || res.status() !== 200) throw new Error(`GET ${base} answered ${res ? res.status() : 'nothing'}`);
    // A wrong token first: refused, and asked for again.
    await page.waitForSelector('[data-testid="token-dialog"][open]');
    await page.fill('[data-testid="token-input"]', 'not-the-token');
    await page.click('[data-testid="token-submit"]');
    await page.waitForFunction(() => {
      const reason = document.querySelector('[data-testid="token-dialog"][open] [data-testid="token-reason"]');
      return reason && reason.textContent.includes('is not server.token');
    });
    await page.fill('[data-testid="token-input"]', TOKEN);
    await page.click('[data-testid="token-submit"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="token-dialog"][open]'));
    // The event stream is open: from here on the page updates by itself.
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    await page.waitForSelector('[data-testid="count-total"]:not([data-count=""])');
    // Set on the window: gone if the page ever reloads.
    await page.evaluate(() => {
      window.__noReload = true;
    });
  }));

let okUpload = false;
if (okBrowser) {
  okUpload = await step('upload', async () => {
    await page.click('[data-testid="upload-open"]');
    await page.setInputFiles('[data-testid="upload-file"]', clipUpload);
    await page.fill('[data-testid="upload-title"]', 'Uploaded from the browser');
    await page.fill('[data-testid="upload-extra"]', '{"source": "dashboard.test.mjs"}');
    await page.click('[data-testid="upload-submit"]');
    await page.waitForSelector('[data-testid="upload-progress"][data-value="100"]');
    const result = await page.waitForSelector('[data-testid="upload-result"]');
    const status = await result.getAttribute('data-status');
    if (status !== '201' && status !== '202') throw new Error(`upload answered ${status}: ${await result.textContent()}`);
    const name = await result.getAttribute('data-name');
    if (name !== 'browser-upload') throw new Error(`upload named the video "${name}", not "browser-upload"`);
    await shot('upload');
  });
}

let okList = false;
if (okUpload) {
  okList = await step('list-live', async () => {
    await page.waitForSelector(row('browser-upload'));
    await page.waitForSelector(`${row('browser-upload')}[data-state="processed"]`, { timeout: 60000 });
    if (!(await page.evaluate(() => window.__noReload === true))) throw new Error('the page reloaded');
    // Its poster, now that it is filed.
    await page.waitForFunction(
      (sel) => {
        const img = document.querySelector(`${sel} img`);
        return img && img.complete && img.naturalWidth > 0;
      },
      row('browser-upload'),
    );
    const processed = Number(await page.getAttribute('[data-testid="count-processed"]', 'data-count'));
    if (!(processed >= 1)) await page.waitForSelector('[data-testid="count-processed"]:not([data-count="0"])');
    await shot('list');
  });
} else if (okBrowser) skip('list-live', 'the upload failed');

if (okList) {
  await step('detail', async () => {
    await page.click(`${row('browser-upload')} [data-testid="video-link"]`);
    await page.waitForSelector('[data-testid="detail"][data-state="processed"]');
    if (!/^#\/videos\/\d+$/.test(await page.evaluate(() => location.hash))) throw new Error('the URL is not #/videos/ID');

    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="detail-poster"]');
      return img && img.complete && img.naturalWidth > 0;
    });

    const checks = await page.locator('[data-testid="qc-check"]').count();
    if (checks === 0) throw new Error('no QC check listed');

    // Some chart was drawn: its canvas holds pixels of more than one colour.
    await page.waitForFunction(() => {
      for (const c of document.querySelectorAll('[data-testid^="plot-"] canvas')) {
        if (!c.width || !c.height) continue;
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < px.length; i += 16) {
          if (px[i + 3] === 0) continue;
          seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
          if (seen.size > 2) return true;
        }
      }
      return false;
    });
    const plots = await page.locator('[data-testid^="plot-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
    for (const want of ['plot-luma', 'plot-loudness_momentary']) {
      if (!plots.includes(want)) throw new Error(`no ${want} chart (have ${plots.join(', ')})`);
    }

    const src = await page.getAttribute('[data-testid="player"]', 'src');
    if (!src || !/\/outputs\/renditions\/main\.mp4$/.test(src)) throw new Error(`player src is ${src}`);
    // The rendition is served with ranges: the browser read its header.
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid="player"]');
      return v.readyState >= 1 && v.duration > 1;
    });

    // The seek strip: hovering shows a tile, clicking seeks the player.
    const strip = await page.waitForSelector('[data-testid="seek-strip"]');
    const box = await strip.boundingBox();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2);
    await page.waitForSelector('[data-testid="seek-preview"]');
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelector('[data-testid="player"]').currentTime > 1);
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await shot('detail');
  });
} else if (okBrowser) skip('detail', 'no processed upload to open');

if (okBrowser) {
  await step('retry', async () => {
    await page.goto(`${base}#/`);
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    // The search box filters (debounced) and lands in the URL.
    await page.fill('[data-testid="filter-q"]', 'brok');
    await page.waitForFunction(() => location.hash.includes('q=brok'));
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="video-row"]')];
      return rows.length > 0 && rows.every((r) => r.dataset.name === 'broken');
    });
    await page.fill('[data-testid="filter-q"]', '');
    await page.waitForFunction(() => !location.hash.includes('q='));
    await page.selectOption('[data-testid="filter-state"]', 'unable_to_process');
    await page.waitForFunction(() => location.hash.includes('state=unable_to_process'));
    await page.waitForSelector(`${row('broken')}[data-state="unable_to_process"]`);
    await page.waitForSelector('[data-testid="count-unable_to_process"]:not([data-count="0"]):not([data-count=""])');
    // The rows of the page before stay until the filtered page comes.
    await page
      .waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid="video-row"]')];
        return rows.length > 0 && rows.every((r) => r.dataset.state === 'unable_to_process');
      })
      .catch(() => {
        throw new Error('the state filter still shows rows in other states');
      });
    await page.click(`${row('broken')} [data-testid="video-link"]`);
    await page.waitForSelector('[data-testid="detail"][data-state="unable_to_process"]');
    await page.click('[data-testid="retry-button"]');
    await page.waitForSelector('[data-testid="retry-result"][data-action="rerun"]');
    // The re-run goes through the states again, live, and ends where it must.
    await page.waitForSelector('[data-testid="activity"] li[data-state="processing"]', { timeout: 30000 });
    await page.waitForSelector('[data-testid="rerun"][data-state="unable_to_process"]', { timeout: 30000 });
    await shot('retry');
  });

  await step('alarm', async () => {
    await page.goto(`${base}#/`);
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    if (await page.locator('[data-testid="alarm"]').count()) throw new Error('an alarm fires before any sidecar went missing');
    fs.copyFileSync(clipDrop, path.join(uploads, 'no-sidecar.mp4'));
    await page.waitForSelector(`${row('no-sidecar')}`, { timeout: 30000 });
    await page.waitForSelector('[data-testid="alarm"][data-name="sidecars-missing"]', { timeout: 30000 });
    await shot('alarm');
  });

  await step('no-page-errors', async () => {
    if (pageErrors.length) throw new Error(`${pageErrors.length} uncaught error(s) in the page: ${pageErrors.join(' | ')}`);
  });
}

clearTimeout(limit);
await cleanup();
const failed = results.filter((r) => !r.ok);
console.log(`browser test took ${elapsed()}; screenshots in ${outDir}`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
