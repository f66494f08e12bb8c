// Browser-test harness: starts the real `kolejka` binary on port 0 with a temporary database,
// launches Debian's Chromium through playwright-core, signs users in and pairs devices through
// the real API, and checks pages with axe-core (WCAG 2.1 A and AA).
//
// Chromium must be at /usr/bin/chromium (or $CHROMIUM): scripts/test installs it from Debian.
// A missing browser is an error, never a skipped test.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..');
export const BIN = process.env.KOLEJKA_BIN
  ? resolve(REPO, process.env.KOLEJKA_BIN)
  : join(REPO, 'target', 'debug', 'kolejka');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/**
 * Starts `kolejka serve` on a fresh (or given) database; resolves once it listens. `listen`
 * (default `127.0.0.1:0`, a free port) lets a test restart a server on the port an open page
 * is reconnecting to.
 */
export async function startServer({ config, dir, listen = '127.0.0.1:0', extraArgs = [] } = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`kolejka binary not found at ${BIN}: run \`cargo build\` first (scripts/test does)`);
  }
  const own = !dir;
  dir = dir || mkdtempSync(join(tmpdir(), 'kolejka-browser-'));
  const db = join(dir, 'kolejka.db');
  const args = ['serve', '--listen', listen, '--db', db, ...extraArgs];
  if (config) args.push('--config', config);
  const proc = spawn(BIN, args, { env: { ...process.env, RUST_LOG: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs = [];
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`kolejka did not start:\n${logs.join('\n')}`)), 20000);
    let buf = '';
    proc.stderr.on('data', (chunk) => {
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        const m = line.match(/listening on (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          ok(m[1]);
        }
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`kolejka exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  const server = {
    base,
    dir,
    db,
    proc,
    logs,
    adminPassword: readFileSync(join(dir, 'admin-password.txt'), 'utf8').trim(),
    url: (path) => base + path,
    /** Stops gracefully (SIGTERM) and waits for the exit. */
    async stop({ keepDir = false } = {}) {
      if (proc.exitCode === null) {
        const exited = new Promise((ok) => proc.once('exit', ok));
        proc.kill('SIGTERM');
        await exited;
      }
      if (own && !keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Launches Debian's Chromium headless with the flags this closed network needs. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}; scripts/test installs Debian's chromium package`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** A small API client for a user (cookie + CSRF) or a device (bearer token). */
export class Api {
  constructor(base, { cookie = null, csrf = null, token = null } = {}) {
    Object.assign(this, { base, cookie, csrf, token });
  }
  headers(json = true) {
    const h = {};
    if (json) h['content-type'] = 'application/json';
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf) h['x-csrf-token'] = this.csrf;
    if (this.token) h.authorization = `Bearer ${this.token}`;
    return h;
  }
  async request(method, path, body) {
    const resp = await fetch(this.base + path, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    return { status: resp.status, data };
  }
  async ok(method, path, body) {
    const r = await this.request(method, path, body);
    if (r.status < 200 || r.status >= 300) {
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.data)}`);
    }
    return r.data;
  }
  /** Signs in and returns a user client. */
  static async login(base, username, password) {
    const resp = await fetch(base + '/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (resp.status !== 200) throw new Error(`login ${username}: ${resp.status}`);
    const body = await resp.json();
    const cookie = resp.headers.get('set-cookie').split(';')[0];
    return new Api(base, { cookie, csrf: body.csrf_token });
  }
}

/** The first-start admin, signed in. */
export function admin(server) {
  return Api.login(server.base, 'admin', server.adminPassword);
}

/** Creates a user with a role (as admin) and signs them in. */
export async function user(server, name, role) {
  const a = await admin(server);
  const password = `${name}-browser-password`;
  await a.ok('POST', '/api/v1/users', { name, role, password });
  const api = await Api.login(server.base, name, password);
  return Object.assign(api, { name, password });
}

/** Pairs a device of `kind` and returns its token (approved by the admin unless auto-approved). */
export async function deviceToken(server, kind, name = `test ${kind}`) {
  const anon = new Api(server.base);
  const pair = await anon.ok('POST', '/api/v1/devices/pair', { kind, name });
  if (pair.token) return pair.token;
  const a = await admin(server);
  await a.ok('POST', '/api/v1/devices/approve', { pairing_code: pair.pairing_code, name });
  const poll = await new Api(server.base, { token: pair.poll_token }).ok('GET', `/api/v1/devices/pair/${pair.device_id}`);
  return poll.token;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page for WCAG 2.0/2.1 A and AA and throws with a readable list of
 * violations if there are any. The page's context must be created with `bypassCSP: true`
 * (our pages forbid inline and eval'd scripts, which is how axe gets in).
 */
export async function checkA11y(page, label) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  });
  if (result.length > 0) {
    const lines = result.map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`);
    throw new Error(`axe-core found WCAG 2.1 A/AA violations on ${label}:\n${lines.join('\n')}`);
  }
  return result;
}
