// The harness the browser journeys share: the browser, pages that record their console
// errors, steps, screenshots, accessibility checks, and the servers a journey plays (a mail
// relay, a parcel carrier). Reads the environment app/tests/browser.rs sets: ORDO_WEB_BASE
// (the running server), ORDO_WEB_OUT (screenshots), ORDO_WEB_DEMO (the demo's accounts),
// ORDO_WEB_SMTP_PORT (the server's mail relay, down until a journey starts it) and
// ORDO_WEB_CARRIER_SECRET (what parcel carriers sign with).

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const base = process.env.ORDO_WEB_BASE;
export const out = process.env.ORDO_WEB_OUT ?? 'web-test-output';
const browserPath = process.env.ORDO_CHROMIUM ?? '/usr/bin/chromium';
// The port of the server's mail relay (its `smtp_url`), down until the journey starts it.
export const smtpPort = Number(process.env.ORDO_WEB_SMTP_PORT ?? 0);
// The secret parcel carriers sign their events with (`delivery.carrier_webhook_secret`).
export const carrierSecret = process.env.ORDO_WEB_CARRIER_SECRET ?? '';
// The demo's accounts, as `ordo demo` printed them: role, email, password.
const accounts = [...(process.env.ORDO_WEB_DEMO ?? '').matchAll(/^(\w+)\s+(\S+@\S+)\s+(\S+)/gm)]
  .map(([, role, email, password]) => ({ role, email, password }));
export const account = (email) => accounts.find((a) => a.email === email);
if (!base) {
  console.error('ORDO_WEB_BASE must name the running server, e.g. http://127.0.0.1:8080');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const browser = await chromium.launch({
  executablePath: browserPath,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

/** The Subject header of a message's lines: unfolded, its encoded words decoded. */
function subjectOf(lines) {
  const headers = lines.slice(0, lines.indexOf('')).join('\r\n').replace(/\r\n[ \t]+/g, ' ');
  const subject = headers.match(/^Subject: (.*)$/im)?.[1] ?? '';
  return subject.replace(/=\?utf-8\?b\?([^?]*)\?=\s*/gi, (_, b64) => Buffer.from(b64, 'base64').toString('utf8')).trim();
}

/**
 * A mail relay that takes every message: just enough SMTP for the server's client. Returns
 * the subjects and the whole messages (their raw lines) it has received so far, and a way
 * to stop it.
 */
export async function startMailRelay(port) {
  const subjects = [];
  const messages = [];
  // Who waits for a message: each looks again at every message that arrives.
  const waiting = [];
  const server = createServer((socket) => {
    let message = null;
    let buffered = '';
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 relay.test ESMTP');
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (message !== null) {
          if (line === '.') {
            subjects.push(subjectOf(message));
            messages.push({ subject: subjectOf(message), lines: message });
            message = null;
            for (const look of waiting.splice(0)) look();
            reply('250 queued');
          } else {
            message.push(line);
          }
        } else if (/^(EHLO|HELO)/i.test(line)) {
          reply('250 relay.test');
        } else if (/^DATA/i.test(line)) {
          message = [];
          reply('354 go on');
        } else if (/^QUIT/i.test(line)) {
          reply('221 bye');
          socket.end();
        } else {
          reply('250 ok');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  /** Resolves once a message with `subject` has arrived (or already had), fails after `timeout` ms. */
  const received = (subject, timeout) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the relay received ${JSON.stringify(subjects)}, not "${subject}"`));
    }, timeout);
    const look = () => {
      if (subjects.includes(subject)) {
        clearTimeout(timer);
        resolve();
      } else {
        waiting.push(look);
      }
    };
    look();
  });
  return { subjects, messages, received, close: () => server.close() };
}

/** A parcel carrier's scan of `shipment` (naming it by its tracking number), signed as the server expects. */
export async function carrierScan(shipment, type, location) {
  const body = JSON.stringify({ id: randomUUID(), tracking_number: shipment.tracking_number, type, location });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', carrierSecret).update(`${t}.${body}`).digest('hex');
  const response = await fetch(`${base}/api/v1/shipments/${shipment.id}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ordo-signature': `t=${t},v1=${v1}` },
    body,
  });
  if (!response.ok) throw new Error(`the carrier's ${type} scan was answered ${response.status}: ${await response.text()}`);
}

/** What the page's own session reads at `path`: to learn ids the page does not show. */
export async function asPage(page, path) {
  return page.evaluate(async (url) => {
    const { access_token: token } = JSON.parse(localStorage.getItem('ordo.session'));
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    return response.json();
  }, `/api/v1${path}`);
}

/**
 * Calls the API directly as `token` (null: anonymously): for what a journey sets up or
 * checks behind the screens it drives. Throws on any refusal, with the problem's words.
 */
export async function call(token, method, path, body, headers = {}) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} was answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Logs `who` ({email, password}) in through the API: the access token. */
export async function tokenOf(who) {
  const { access_token: token } = await call(null, 'POST', '/auth/login', { email: who.email, password: who.password });
  return token;
}

export const failures = [];
export const pages = new Map();
// Console errors a step provokes on purpose (a refused token, the network cut).
let tolerated = null;
let shot = 0;

/** A page that records its console errors and failed requests. */
export async function open(name, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, baseURL: base });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    if (message.type() === 'error' && !tolerated?.test(message.text())) {
      failures.push(`${name}: console error: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => failures.push(`${name}: page error: ${error.message}`));
  pages.set(name, page);
  return page;
}

export async function screenshot(page, step) {
  shot += 1;
  await page.screenshot({ path: join(out, `${String(shot).padStart(2, '0')}-${step}.png`), fullPage: true });
}

/** No serious or critical axe-core violation on the page as it is now. */
export async function accessible(page, name) {
  // Evaluated through the debugging protocol, which the page's policy does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))) {
    failures.push(`${name}: accessibility (${v.impact}) ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }
}

/** Logs `who` in on the login form the page shows. */
export async function logIn(page, who) {
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/**
 * Presses Tab until the focused element's name starts with `name`, checking on the way that
 * every element focused shows it.
 */
export async function tabTo(page, name, most = 80) {
  for (let press = 0; press < most; press += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      const style = getComputedStyle(element);
      return {
        name: (element.getAttribute('aria-label') || element.labels?.[0]?.textContent || element.textContent || '').trim(),
        tag: element.tagName,
        shown: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
      };
    });
    // Past the last control the focus leaves the page (the body) and comes round again.
    if (!focused.shown && focused.tag !== 'BODY') throw new Error(`${focused.tag} "${focused.name}" has the focus but does not show it`);
    if (focused.name.startsWith(name)) return;
  }
  throw new Error(`"${name}" cannot be reached with Tab`);
}

export async function step(name, run) {
  const started = Date.now();
  try {
    await run();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures.push(`${name}: ${error.message.split('\n')[0]}`);
    console.log(`FAIL ${name}: ${error.message.split('\n')[0]}`);
    for (const [who, page] of pages) {
      await page.screenshot({ path: join(out, `failed-${who}.png`), fullPage: true }).catch(() => {});
    }
    throw error;
  }
}


/** Runs `run` with console errors matching `pattern` allowed: those it provokes on purpose. */
export async function tolerating(pattern, run) {
  tolerated = pattern;
  try {
    return await run();
  } finally {
    tolerated = null;
  }
}

/** A suffix that makes this run's accounts and names its own. */
export const unique = Date.now().toString(36);


/** Creates an account on the login form the page shows (the app's own role) and logs in. */
export async function signUp(page, { name, email, password }) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

/**
 * Places a pickup order of one Pizza Margherita at the demo's Trattoria Luigi as the
 * customer `token` logs in, with a new card that authorises: the order as placed.
 */
export async function orderPizza(token, key) {
  const merchants = await call(token, 'GET', '/merchants?limit=50');
  const luigi = merchants.items.find((m) => m.name === 'Trattoria Luigi');
  const menu = await call(token, 'GET', `/merchants/${luigi.id}/products?limit=100`);
  const pizza = menu.items.find((p) => p.name === 'Pizza Margherita');
  const card = await call(token, 'POST', '/me/payment-methods', {
    card_number: '4242424242424242', exp_month: 12, exp_year: new Date().getFullYear() + 2, cvc: '123',
  });
  return call(token, 'POST', '/orders', {
    items: [{ product_id: pizza.id, quantity: 1 }], fulfilment: 'pickup', payment_method_id: card.id,
  }, { 'idempotency-key': key });
}
