// Loads the collector dashboard in Debian's headless Chromium and checks what
// a person would look at: the failures chart, the latest reports with their
// pins, and the policy expiry timeline. Saves a screenshot as an artefact.
//   node dashboard.mjs URL SCREENSHOT.png EXPECTED_REPORTS
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [url, screenshot, expectedReports] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), 'pinion collector');

  // The chart: one bar per host and hour, each a visible, non-empty rectangle.
  const bars = page.locator('#failures-chart rect.bar');
  assert.ok(await bars.count() >= 2, 'bars for at least two hosts');
  const hosts = new Set(await bars.evaluateAll((nodes) => nodes.map((n) => n.dataset.host)));
  assert.ok(hosts.has('api.example.com') && hosts.has('pay.example.com'), `hosts in the chart: ${[...hosts]}`);
  const box = await bars.first().boundingBox();
  assert.ok(box && box.height > 1 && box.width > 1, 'bars are drawn');
  const counted = await bars.evaluateAll((nodes) => nodes.reduce((sum, n) => sum + Number(n.dataset.count), 0));
  assert.equal(counted, Number(expectedReports));

  // Latest reports, with the validated chain's pins.
  const rows = page.locator('#latest-reports tbody tr');
  assert.equal(await rows.count(), Number(expectedReports));
  assert.match(await rows.first().innerText(), /sha256\/[A-Za-z0-9+/]{43}=/);

  // Expiry timeline of the loaded policy.
  const rules = page.locator('#expiry-timeline tr.rule');
  assert.equal(await rules.count(), 2);
  assert.match(await rules.first().innerText(), /days|expired/);
  await assert.doesNotReject(rules.locator('rect.expiry-bar').first().waitFor({ state: 'attached', timeout: 2000 }));

  assert.deepEqual(errors, [], 'no page errors');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`dashboard ok: ${counted} reports, ${hosts.size} hosts, screenshot ${screenshot}`);
} finally {
  await browser.close();
}
