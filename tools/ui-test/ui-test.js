// ui-test.js BASE_URL OUT_DIR CRASH_ID...: drives the collector's /ui in Debian's headless Chromium,
// takes screenshots (OUT_DIR/overview.png, OUT_DIR/crash-N.png) and prints what the page shows as JSON.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, outDir, ...crashIds] = process.argv.slice(2);
const WAIT_MS = 15000;

// The crash page, reached as an operator does (the crash row's link): what it shows.
async function crashPage(page, id, png) {
  const rows = (sel) => page.$$eval(sel, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  const p = {};
  await page.click(`#crashes tr[data-crash="${id}"] a`);
  await page.waitForSelector('#trend-chart circle.point', { timeout: WAIT_MS });
  await page.waitForFunction(() => document.querySelector('#stderr').textContent.length > 0);
  p.url_hash = await page.evaluate(() => location.hash);
  p.title = await page.textContent('#crash-title');
  p.cause = await page.textContent('#crash-cause');
  p.sender = await page.textContent('#crash-sender');
  p.oom = await page.textContent('#crash-oom');
  p.cpu_points = await page.$$eval('#trend-chart circle.cpu.point', (c) => c.length);
  p.rss_points = await page.$$eval('#trend-chart circle.rss.point', (c) => c.length);
  p.rss_line_points = await page.$eval('#trend-chart polyline.rss',
    (l) => l.getAttribute('points').trim().split(/\s+/).length);
  p.timeline = await page.$$eval('#timeline-list li', (li) => li.map((x) => x.textContent));
  p.timeline_marks = await page.$$eval('#timeline-chart line.mark, #timeline-chart line.death',
    (l) => l.length);
  p.calls = await rows('#calls tbody tr');
  p.stderr = await page.textContent('#stderr');
  // A child's text shown, never run: no element from it, no script it carried ran.
  p.stderr_elements = await page.$$eval('#stderr *', (e) => e.length);
  p.scripts = await page.$$eval('script', (s) => s.map((x) => x.getAttribute('src')));
  p.xss = await page.evaluate(() => (window.__xss === undefined ? null : window.__xss));
  p.images = await page.$$eval('img', (i) => i.length);
  await page.screenshot({ path: png, fullPage: true });
  return p;
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'collector-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out = { console_errors: [], page_errors: [], requests_elsewhere: [] };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
    page.on('pageerror', (e) => out.page_errors.push(String(e)));
    // Nothing but the collector itself: no CDN, no fonts, no telemetry.
    page.on('request', (r) => { if (!r.url().startsWith(base)) out.requests_elsewhere.push(r.url()); });

    await page.goto(base + '/ui', { waitUntil: 'load' });
    await page.waitForSelector('#runners tbody tr[data-runner]', { timeout: WAIT_MS });
    for (const id of crashIds)
      await page.waitForSelector(`#crashes tr[data-crash="${id}"]`, { timeout: WAIT_MS });
    // The second poll gives rates: a number, not a dash.
    await page.waitForFunction(() => /\d/.test(document.querySelector('#rates tbody tr td:nth-child(4)')
      ?.textContent || ''), null, { timeout: WAIT_MS });
    const rows = (sel) => page.$$eval(sel, (trs) => trs.map((tr) =>
      [...tr.cells].map((td) => td.textContent)));
    out.runners = await rows('#runners tbody tr');
    out.rates = await rows('#rates tbody tr');
    out.sinks = await rows('#sinks tbody tr');
    out.crashes = await rows('#crashes tbody tr');
    out.health = await page.textContent('#health');
    await page.screenshot({ path: path.join(outDir, 'overview.png'), fullPage: true });

    out.pages = [];
    for (const [i, id] of crashIds.entries()) {
      await page.goto(base + '/ui', { waitUntil: 'load' });
      await page.waitForSelector(`#crashes tr[data-crash="${id}"] a`, { timeout: WAIT_MS });
      out.pages.push(await crashPage(page, id, path.join(outDir, `crash-${i + 1}.png`)));
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write('ui-test: ' + (e && e.stack || e) + '\n');
  process.exit(1);
});
