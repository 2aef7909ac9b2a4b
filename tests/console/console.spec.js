// SPDX-License-Identifier: MIT
// The keys console end to end in Debian's headless Chromium, driven by playwright-core (no
// browser download: executablePath /usr/bin/chromium). Run by tests/integration/test_console.py,
// which starts the server and answers this script's checkpoints with curl.
//
// Environment:
//   TSKEY_CONSOLE_URL   the console's URL (http://127.0.0.1:PORT/console/)
//   TSKEY_ADMIN_KEY     an admin key (keys:admin) for the account TSKEY_ACCOUNT
//   TSKEY_ACCOUNT       the account to work in
//   TSKEY_WORK          a private directory: the created key is written to WORK/new-key (0600)
//                       for the test's curl, screenshots to WORK/shots/
//   CHROMIUM            the browser (default /usr/bin/chromium)
//
// Protocol: one JSON line per checkpoint on stdout ({"step": NAME, ...}); the test answers each
// with a line on stdin ("go") before the script goes on. Results go in the last line
// ({"step": "done", "checks": {...}}). Nothing printed ever holds a key: errors are redacted.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

const URL_ = process.env.TSKEY_CONSOLE_URL;
const ADMIN_KEY = process.env.TSKEY_ADMIN_KEY;
const ACCOUNT = process.env.TSKEY_ACCOUNT;
const WORK = process.env.TSKEY_WORK;
const STEP_MS = 10000;          // any one wait in the page
const ANSWER_MS = 30000;        // the test's answer to a checkpoint
const TOTAL_MS = 75000;         // the whole run
const XSS_NAME = '<img src=x onerror="window.__xss=1">';

const secrets = [ADMIN_KEY];
const redact = (s) => secrets.filter(Boolean).reduce((t, k) => t.split(k).join('[redacted]'),
  String(s));

const lines = readline.createInterface({ input: process.stdin });
const answers = [];
let waiter = null;
lines.on('line', (l) => {
  if (waiter) { const w = waiter; waiter = null; w(l); } else answers.push(l);
});

function checkpoint(step, extra) {
  process.stdout.write(JSON.stringify(Object.assign({ step }, extra || {})) + '\n');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no answer to checkpoint ' + step)), ANSWER_MS);
    const take = (l) => { clearTimeout(t); l === 'go' ? resolve() : reject(new Error(l)); };
    if (answers.length) take(answers.shift()); else waiter = take;
  });
}

function assert(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(WORK, 'shots', name + '.png'), fullPage: true,
    timeout: STEP_MS });
}

// The row of the key named name in the keys table.
function row(page, name) {
  return page.locator('#keys-table tbody tr').filter({
    has: page.locator('td.key-name', { hasText: name }) });
}

async function main() {
  const checks = {};
  const problems = [];
  fs.mkdirSync(path.join(WORK, 'shots'), { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: STEP_MS * 3 });
  try {
    const origin = new URL(URL_).origin;
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (e) => problems.push('page error: ' + redact(e.message)));
    let badKeyStep = false;
    page.on('console', (m) => {
      const where = m.location().url || '';
      // Expected: the CSP test's one violation, the refusal of the bad key at sign-in, and
      // the browser's own look for /favicon.ico (the console has no icon).
      if (m.type() !== 'error' || /inline script/.test(m.text()) ||
          (badKeyStep && / 401 /.test(m.text())) || /\/favicon\.ico$/.test(where)) return;
      problems.push('console error: ' + redact(m.text()) + ' at ' + redact(where));
    });

    // ---- sign in ------------------------------------------------------------------------------
    const resp = await page.goto(URL_, { timeout: STEP_MS });
    checks.csp = resp.headers()['content-security-policy'] || '';
    await page.waitForSelector('#signin-key');
    await shot(page, 'signin');
    badKeyStep = true;
    await page.fill('#signin-key', 'tsk_live_notakeynotakeynotakey000000');
    await page.click('#signin-submit');
    await page.waitForSelector('#signin-error:not([hidden])');
    checks.badKeyRefused = await page.textContent('#signin-error');
    badKeyStep = false;
    await page.fill('#signin-key', ADMIN_KEY);
    await page.click('#signin-submit');
    await page.waitForSelector('#app:not([hidden])');
    checks.keyInputCleared = (await page.inputValue('#signin-key')) === '';
    await page.selectOption('#account', ACCOUNT);
    await page.waitForSelector('#keys-table tbody tr');

    // ---- CSP holds: an inline script added to the page does not run ---------------------------
    checks.inlineScriptRan = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      return window.__inline === 1;
    });

    // ---- a key whose name is markup is shown as text -----------------------------------------
    await page.fill('#create-name', XSS_NAME);
    await page.click('#create-submit');
    await page.waitForSelector('#new-key:not([hidden])');
    await page.click('#new-key-done');
    await row(page, 'onerror').waitFor();
    checks.xssNameText = await row(page, 'onerror').locator('td.key-name').textContent();
    checks.xssImgs = await page.locator('#keys-table img').count();
    checks.xssRan = await page.evaluate(() => window.__xss === 1);

    // ---- create a key: shown once, copied, then gone ------------------------------------------
    await page.fill('#create-name', 'console-e2e');
    await page.selectOption('#create-env', 'live');
    await page.fill('#create-scopes', 'credit:read');
    await page.fill('#create-ips', '127.0.0.1, ::1');
    await page.click('#create-submit');
    await page.waitForSelector('#new-key:not([hidden])');
    const key = (await page.textContent('#new-key-value')).trim();
    secrets.push(key);
    checks.newKeyShape = /^tsk_live_[0-9A-Za-z]{28}$/.test(key);
    await row(page, 'console-e2e').waitFor();
    await shot(page, 'key-created');
    await page.click('#new-key-copy');
    await page.waitForSelector('#new-key-copied:not([hidden])');
    checks.clipboardHasKey = (await page.evaluate(() => navigator.clipboard.readText())) === key;
    await page.click('#new-key-done');
    checks.keyGoneFromPage = !(await page.content()).includes(key) &&
      (await page.textContent('#new-key-value')) === '';
    const r = row(page, 'console-e2e');
    checks.listedPrefix = await r.locator('td').nth(2).textContent();
    checks.listedEnv = await r.locator('td').nth(3).textContent();
    checks.listedStatus = await r.locator('td').nth(5).textContent();
    checks.keyInList = (await page.content()).includes(key);
    fs.writeFileSync(path.join(WORK, 'new-key'), key, { mode: 0o600 });
    await checkpoint('created');      // the test uses the key with curl

    // ---- revoke it in the page ---------------------------------------------------------------
    await r.locator('button[data-action="deactivate"]').click();
    await r.locator('.status-inactive').waitFor();
    checks.revokedStatus = await r.locator('td').nth(5).textContent();
    await shot(page, 'keys');
    await checkpoint('revoked');      // the test sees curl refused

    // ---- reactivate, rotate with a grace period, delete ---------------------------------------
    await r.locator('button[data-action="reactivate"]').click();
    await r.locator('.status-active').waitFor();
    await r.locator('button[data-action="rotate"]').click();
    await page.fill('#confirm-grace', '120');
    await page.click('#confirm-ok');
    await page.waitForSelector('#new-key:not([hidden])');
    const rotated = (await page.textContent('#new-key-value')).trim();
    secrets.push(rotated);
    checks.rotatedShape = /^tsk_live_[0-9A-Za-z]{28}$/.test(rotated) && rotated !== key;
    await page.click('#new-key-done');
    checks.rotatedRows = await row(page, 'console-e2e').count();
    checks.rotateMessage = await page.textContent('#message');
    fs.writeFileSync(path.join(WORK, 'rotated-key'), rotated, { mode: 0o600 });
    await checkpoint('rotated');      // old key still works (grace), new one works
    // The XSS-named key: deactivate, then delete it.
    const x = row(page, 'onerror');
    await x.locator('button[data-action="deactivate"]').click();
    await x.locator('.status-inactive').waitFor();
    await x.locator('button[data-action="delete"]').click();
    await page.click('#confirm-ok');
    await x.waitFor({ state: 'detached' });
    checks.deleted = (await row(page, 'onerror').count()) === 0;

    // ---- accounts and credit, users, audit, migration report ----------------------------------
    await page.click('.tab[data-tab="accounts"]');
    const acct = page.locator('#accounts-table tbody tr[data-account="' + ACCOUNT + '"]');
    await acct.waitFor();
    checks.creditBefore = Number(await acct.locator('td.credit').textContent());
    await page.selectOption('#credit-mode', 'add');
    await page.fill('#credit-amount', '25');
    await page.click('#credit-submit');
    await page.waitForFunction(() => document.querySelector('#message').textContent
      .includes('is now'));
    checks.creditAfter = Number(await acct.locator('td.credit').textContent());
    await shot(page, 'accounts');
    await page.click('.tab[data-tab="users"]');
    await page.waitForSelector('#users-table tbody tr');
    checks.users = await page.locator('#users-table tbody').textContent();
    await page.click('.tab[data-tab="audit"]');
    await page.waitForSelector('#audit-table tbody tr');
    checks.auditActions = await page.locator('#audit-table td.action').allTextContents();
    await shot(page, 'audit');
    await page.click('.tab[data-tab="migration"]');
    await page.waitForSelector('#migration-table tbody tr');
    checks.migration = await page.locator('#migration-table tbody').textContent();
    await shot(page, 'migration');

    // ---- nothing kept: storage, cookies, URL; signing out forgets the key ---------------------
    checks.storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
    checks.cookies = (await context.cookies()).length;
    checks.urlHasKey = secrets.some((s) => page.url().includes(s));
    checks.adminKeyInDom = (await page.content()).includes(ADMIN_KEY);
    await page.click('#signout');
    await page.waitForSelector('#signin:not([hidden])');
    checks.signedOut = await page.isHidden('#app');
    checks.tablesEmptyAfterSignOut = (await page.locator('tbody tr').count()) === 0;
    checks.problems = problems;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify({ step: 'done', checks }) + '\n');
}

const timer = setTimeout(() => {
  process.stderr.write('console.spec.js: gave up after ' + TOTAL_MS + ' ms\n');
  process.exit(2);
}, TOTAL_MS);

main().then(() => {
  clearTimeout(timer);
  lines.close();
  process.exit(0);
}, (err) => {
  process.stderr.write('console.spec.js: ' + redact(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
