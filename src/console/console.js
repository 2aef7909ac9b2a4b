// SPDX-License-Identifier: MIT
// The tskey keys console. Talks to the admin API (/admin/v1/) of the server that served it,
// with the admin key in the X-API-Key header of each request. The key lives in this closure
// only: never in localStorage, sessionStorage, a cookie or the URL. Every value from the API
// reaches the page as text (textContent), never as HTML.
'use strict';

(function () {
  const API = '/admin/v1';
  let adminKey = null;          // the signed-in admin key; null when signed out
  let accounts = [];            // what GET /admin/v1/accounts said
  let current = '';             // the selected account's name
  let tab = 'keys';
  let pending = null;           // the action awaiting confirmation

  const $ = (id) => document.getElementById(id);

  // An element with text children only: strings become text nodes, never markup.
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else if (k === 'onclick') e.addEventListener('click', v);
      else e[k] = v;
    }
    for (const kid of kids) {
      if (kid === null || kid === undefined) continue;
      e.append(typeof kid === 'string' || typeof kid === 'number' ? String(kid) : kid);
    }
    return e;
  }

  function when(t) {
    return t ? t.replace('T', ' ').replace('Z', ' UTC') : '—';
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ('HTTP ' + status));
      this.status = status;
      this.code = body && body.code;
      this.requestId = body && body.requestId;
    }
  }

  async function api(method, path, body) {
    const headers = { 'X-API-Key': adminKey, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit',
                   referrerPolicy: 'no-referrer', redirect: 'error' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(API + path, init);
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  }

  // ---- messages ------------------------------------------------------------------------------
  function say(text, isError) {
    const m = $('message');
    m.textContent = text;
    m.className = 'message' + (isError ? ' error' : '');
    m.hidden = false;
  }

  function fail(err) {
    if (err instanceof ApiError) {
      if (err.status === 401) {
        signOut('The admin key was refused (' + (err.code || err.status) + '). Sign in again.');
        return;
      }
      say(err.message + ' (' + (err.code || err.status) + ', request ' +
          (err.requestId || '-') + ')', true);
    } else {
      say('The server could not be reached: ' + err.message, true);
    }
  }

  // ---- signing in and out --------------------------------------------------------------------
  async function signIn(ev) {
    ev.preventDefault();
    const input = $('signin-key');
    const key = input.value.trim();
    input.value = '';           // not left in the DOM
    $('signin-error').hidden = true;
    if (!key) return;
    adminKey = key;
    try {
      const data = await api('GET', '/accounts');
      accounts = data.accounts || [];
    } catch (err) {
      adminKey = null;
      const e = $('signin-error');
      e.textContent = err instanceof ApiError
        ? 'Refused: ' + err.message + ' (' + (err.code || err.status) + ')'
        : 'The server could not be reached.';
      e.hidden = false;
      return;
    }
    $('signin').hidden = true;
    $('app').hidden = false;
    $('whoami').hidden = false;
    $('whoami-text').textContent = accounts.length > 1
      ? 'Platform admin (' + accounts.length + ' accounts)'
      : 'Admin of ' + (accounts[0] ? accounts[0].name : '—');
    fillAccounts();
    await show('keys');
  }

  function signOut(why) {
    adminKey = null;
    accounts = [];
    current = '';
    hideNewKey();
    cancelConfirm();
    for (const t of document.querySelectorAll('tbody')) t.replaceChildren();
    $('account').replaceChildren();
    $('app').hidden = true;
    $('whoami').hidden = true;
    $('message').hidden = true;
    $('signin').hidden = false;
    const e = $('signin-error');
    e.textContent = typeof why === 'string' ? why : '';
    e.hidden = typeof why !== 'string';
    $('signin-key').focus();
  }

  function fillAccounts() {
    const sel = $('account');
    sel.replaceChildren(...accounts.map((a) => el('option', { value: a.name }, a.name)));
    if (!accounts.some((a) => a.name === current)) {
      // A platform key lists every account: start with one that is not the operators' own.
      current = accounts.length ? accounts[accounts.length - 1].name : '';
    }
    sel.value = current;
  }

  // ---- tabs ----------------------------------------------------------------------------------
  async function show(name) {
    tab = name;
    for (const b of document.querySelectorAll('.tab')) {
      b.setAttribute('aria-selected', String(b.dataset.tab === name));
    }
    for (const p of document.querySelectorAll('.tab-panel')) {
      p.hidden = p.id !== 'tab-' + name;
    }
    for (const id of ['keys-account', 'credit-account', 'users-account', 'audit-account',
      'migration-account']) {
      $(id).textContent = current;
    }
    await refresh();
  }

  async function refresh() {
    if (!adminKey || !current) return;
    try {
      if (tab === 'keys') await loadKeys();
      else if (tab === 'accounts') await loadAccounts();
      else if (tab === 'users') await loadUsers();
      else if (tab === 'audit') await loadAudit();
      else if (tab === 'migration') await loadMigration();
    } catch (err) {
      fail(err);
    }
  }

  const enc = encodeURIComponent;

  // ---- keys ----------------------------------------------------------------------------------
  async function loadKeys() {
    const data = await api('GET', '/accounts/' + enc(current) + '/keys');
    const rows = data.keys.map((k) => {
      const actions = el('td', { class: 'actions' });
      if (k.status === 'active') {
        actions.append(el('button', { type: 'button', class: 'small danger',
          'data-action': 'deactivate', onclick: () => keyAction(k, 'deactivate') }, 'Deactivate'));
        actions.append(el('button', { type: 'button', class: 'small secondary',
          'data-action': 'rotate', onclick: () => askRotate(k) }, 'Rotate'));
      } else if (k.status === 'inactive') {
        actions.append(el('button', { type: 'button', class: 'small secondary',
          'data-action': 'reactivate', onclick: () => keyAction(k, 'reactivate') }, 'Reactivate'));
      }
      if (k.status !== 'active') {
        actions.append(el('button', { type: 'button', class: 'small danger',
          'data-action': 'delete', onclick: () => askDelete(k) }, 'Delete'));
      }
      return el('tr', { 'data-key-id': String(k.id) },
        el('td', { class: 'num' }, k.id),
        el('td', { class: 'key-name' }, k.name || '—'),
        el('td', { class: 'mono' }, k.prefix),
        el('td', {}, k.environment),
        el('td', { class: 'mono' }, (k.scopes || []).join(' ')),
        el('td', {}, el('span', { class: 'status status-' + k.status }, k.status)),
        el('td', {}, when(k.createdAt)),
        el('td', {}, when(k.lastUsedAt)),
        el('td', {}, when(k.expiresAt)),
        actions);
    });
    $('keys-table').tBodies[0].replaceChildren(...rows);
    $('keys-empty').hidden = rows.length > 0;
  }

  async function keyAction(k, verb) {
    try {
      await api('POST', '/keys/' + k.id + '/' + verb);
      say('Key ' + k.id + ' (' + (k.name || k.prefix) + ') ' +
          (verb === 'deactivate' ? 'deactivated: it is refused from now on.' : 'reactivated.'));
      await loadKeys();
    } catch (err) {
      fail(err);
    }
  }

  function confirmBox(text, withGrace, run) {
    pending = run;
    $('confirm-text').textContent = text;
    $('confirm-grace-label').hidden = !withGrace;
    $('confirm-grace').value = '0';
    $('confirm').hidden = false;
    $('confirm-ok').focus();
  }

  function cancelConfirm() {
    pending = null;
    $('confirm').hidden = true;
  }

  function askRotate(k) {
    confirmBox('Rotate key ' + k.id + ' (' + (k.name || k.prefix) + ')? A new key with the same ' +
      'settings is made and shown once.', true, async () => {
      const grace = parseInt($('confirm-grace').value || '0', 10);
      if (!(grace >= 0)) {
        say('The grace period is a number of seconds, 0 or more.', true);
        return;
      }
      const made = await api('POST', '/keys/' + k.id + '/rotate', { grace });
      showNewKey(made.key);
      say('Key ' + k.id + ' rotated into key ' + made.id + (grace > 0
        ? '; the old one keeps working for ' + grace + ' s.' : '; the old one stopped.'));
      await loadKeys();
    });
  }

  function askDelete(k) {
    confirmBox('Delete key ' + k.id + ' (' + (k.name || k.prefix) + ') for good?', false,
      async () => {
        await api('DELETE', '/keys/' + k.id);
        say('Key ' + k.id + ' deleted.');
        await loadKeys();
      });
  }

  async function runConfirm() {
    const run = pending;
    cancelConfirm();
    if (!run) return;
    try {
      await run();
    } catch (err) {
      fail(err);
    }
  }

  function showNewKey(key) {
    $('new-key-value').textContent = key;
    $('new-key-copied').hidden = true;
    $('new-key').hidden = false;
  }

  function hideNewKey() {
    $('new-key-value').textContent = '';
    $('new-key').hidden = true;
  }

  async function copyNewKey() {
    const text = $('new-key-value').textContent;
    try {
      await navigator.clipboard.writeText(text);
      $('new-key-copied').textContent = 'Copied to the clipboard.';
    } catch (e) {
      // No clipboard permission: select the key so that Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents($('new-key-value'));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      $('new-key-copied').textContent = 'Selected: press Ctrl+C (Cmd+C) to copy.';
    }
    $('new-key-copied').hidden = false;
  }

  async function createKey(ev) {
    ev.preventDefault();
    const body = { environment: $('create-env').value };
    const name = $('create-name').value.trim();
    const scopes = $('create-scopes').value.split(/\s+/).filter(Boolean);
    const expires = $('create-expires').value;
    const ips = $('create-ips').value.split(',').map((s) => s.trim()).filter(Boolean);
    if (name) body.name = name;
    if (scopes.length) body.scopes = scopes;
    if (expires) body.expiresAt = expires;
    if (ips.length) body.ipAllow = ips;
    try {
      const made = await api('POST', '/accounts/' + enc(current) + '/keys', body);
      showNewKey(made.key);
      say('Key ' + made.id + ' created for ' + current + '.');
      $('create-form').reset();
      await loadKeys();
    } catch (err) {
      fail(err);
    }
  }

  // ---- accounts ------------------------------------------------------------------------------
  async function loadAccounts() {
    const data = await api('GET', '/accounts');
    accounts = data.accounts || [];
    const rows = accounts.map((a) => el('tr', { 'data-account': a.name },
      el('td', { class: 'num' }, a.id),
      el('td', {}, a.name),
      el('td', { class: 'num credit' }, a.credit),
      el('td', { class: 'num' }, a.monthlyAllowance),
      el('td', {}, when(a.createdAt))));
    $('accounts-table').tBodies[0].replaceChildren(...rows);
  }

  async function changeCredit(ev) {
    ev.preventDefault();
    const n = parseInt($('credit-amount').value, 10);
    if (!Number.isInteger(n)) {
      say('Credits are a whole number.', true);
      return;
    }
    const mode = $('credit-mode').value;
    try {
      const a = await api('POST', '/accounts/' + enc(current) + '/credit', { [mode]: n });
      $('credit-form').reset();
      await loadAccounts();
      say('The credit of ' + a.name + ' is now ' + a.credit + '.');
    } catch (err) {
      fail(err);
    }
  }

  // ---- users, audit, migration ---------------------------------------------------------------
  async function loadUsers() {
    const data = await api('GET', '/accounts/' + enc(current) + '/users');
    const rows = data.users.map((u) => el('tr', {},
      el('td', { class: 'num' }, u.id), el('td', {}, u.name),
      el('td', {}, u.kind === 'api' ? 'API user' : 'person'), el('td', {}, when(u.createdAt))));
    $('users-table').tBodies[0].replaceChildren(...rows);
    $('users-empty').hidden = rows.length > 0;
  }

  async function loadAudit() {
    const data = await api('GET', '/audit?account=' + enc(current) + '&limit=200');
    const rows = data.entries.map((a) => el('tr', {},
      el('td', { class: 'num' }, a.id), el('td', {}, when(a.at)), el('td', {}, a.actor),
      el('td', { class: 'mono action' }, a.action), el('td', { class: 'mono' }, a.target),
      el('td', {}, a.client || 'cli'), el('td', { class: 'mono' }, a.requestId || '—'),
      el('td', { class: 'detail mono' }, JSON.stringify(a.detail))));
    $('audit-table').tBodies[0].replaceChildren(...rows);
    $('audit-empty').hidden = rows.length > 0;
  }

  async function loadMigration() {
    const data = await api('GET', '/report/migration?account=' + enc(current));
    const rows = data.legacy.map((m) => el('tr', {},
      el('td', {}, m.kind), el('td', { class: 'num' }, m.id), el('td', {}, m.name),
      el('td', { class: 'mono' }, m.prefix || '—'),
      el('td', { class: 'num' }, m.requests.soapSession),
      el('td', { class: 'num' }, m.requests.soapKey),
      el('td', { class: 'num' }, m.requests.rest), el('td', { class: 'num' }, m.requests.logins),
      el('td', {}, when(m.lastLegacyUse))));
    $('migration-table').tBodies[0].replaceChildren(...rows);
    $('migration-empty').hidden = rows.length > 0;
  }

  // ---- wiring --------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', () => signOut());
    $('create-form').addEventListener('submit', createKey);
    $('credit-form').addEventListener('submit', changeCredit);
    $('new-key-copy').addEventListener('click', copyNewKey);
    $('new-key-done').addEventListener('click', hideNewKey);
    $('confirm-ok').addEventListener('click', runConfirm);
    $('confirm-cancel').addEventListener('click', cancelConfirm);
    $('account').addEventListener('change', (ev) => {
      current = ev.target.value;
      hideNewKey();
      cancelConfirm();
      $('message').hidden = true;
      show(tab);
    });
    for (const b of document.querySelectorAll('.tab')) {
      b.addEventListener('click', () => {
        $('message').hidden = true;
        show(b.dataset.tab);
      });
    }
    $('signin-key').focus();
  });
}());
