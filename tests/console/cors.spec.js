// SPDX-License-Identifier: MIT
// The admin API's Origin policy as a real browser meets it: from a page of another origin,
// fetch the admin API (a GET, and a POST that would create an account), in headless Chromium.
// Run by tests/integration/test_console.py.
//
// Environment: TSKEY_API (the admin API server's base URL), TSKEY_ADMIN_KEY, TSKEY_PAGES (page
// URLs, space-separated, each of its own origin), CHROMIUM (default /usr/bin/chromium).
// Prints one JSON line: {"<page URL>": {"get": ..., "post": ...}}, where each result is the
// HTTP status the page could read, or "blocked" when the browser refused to hand it over.
'use strict';

const { chromium } = require('playwright-core');

const STEP_MS = 10000;
const key = process.env.TSKEY_ADMIN_KEY;
const redact = (s) => String(s).split(key).join('[redacted]');

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: STEP_MS * 3 });
  const out = {};
  try {
    for (const url of process.env.TSKEY_PAGES.split(' ')) {
      const page = await browser.newPage();
      page.setDefaultTimeout(STEP_MS);
      await page.goto(url, { timeout: STEP_MS });
      out[url] = await page.evaluate(async ({ api, key, name }) => {
        async function call(method, body) {
          try {
            const init = { method, headers: { 'X-API-Key': key } };
            if (body) {
              init.headers['Content-Type'] = 'application/json';
              init.body = JSON.stringify(body);
            }
            const r = await fetch(api + '/admin/v1/accounts', init);
            return r.status;
          } catch (e) {
            return 'blocked';
          }
        }
        return { get: await call('GET'), post: await call('POST', { name }) };
      }, { api: process.env.TSKEY_API, key, name: 'via-' + new URL(url).hostname });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

const timer = setTimeout(() => {
  process.stderr.write('cors.spec.js: gave up\n');
  process.exit(2);
}, 60000);
main().then(() => { clearTimeout(timer); process.exit(0); },
  (err) => { process.stderr.write('cors.spec.js: ' + redact(err && err.stack) + '\n');
    process.exit(1); });
