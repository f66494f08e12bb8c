// The clerk panel (/panel) and the manager console (/panel/manager) in headless Chromium: a
// morning in miniature with clerks working by keyboard shortcuts, the manager's changes taking
// effect, actions that lose their answer retried without acting twice, access rules in the page
// and the API, and axe-core (WCAG 2.1 A/AA) on every page state that matters.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Api, REPO, checkA11y, deviceToken, launchBrowser, startServer, user } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh browser context (its own cookies), CSP bypassed only so that axe can be injected. */
async function newPage() {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|ERR_FAILED|net::/.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  return page;
}

/** Signs in through the page's own form. */
async function signIn(page, name, password) {
  await page.getByLabel('Nazwa użytkownika', { exact: true }).fill(name);
  await page.getByLabel('Hasło', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Zaloguj się' }).click();
}

/** Presses a key with the focus on the page itself (not in a text field). */
async function press(page, key) {
  await page.keyboard.press(key);
}

async function currentNumber(page) {
  return (await page.locator('#cur-number').textContent()).trim();
}

async function waitNumber(page, number) {
  await page.waitForFunction((n) => document.querySelector('#cur-number')?.textContent.trim() === n, number, { timeout: 10000 });
}

async function waitState(page, text) {
  await page.waitForFunction((t) => document.querySelector('#cur-state')?.textContent.includes(t), text, { timeout: 10000 });
}

/** Waits until a button is enabled (the live state arrived). */
async function enabled(page, id) {
  await page.waitForFunction((i) => document.getElementById(i) && !document.getElementById(i).disabled, id, { timeout: 10000 });
}

async function apiAs(page) {
  // The page's own session, for checks through the API with its cookie.
  const cookies = await page.context().cookies();
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const me = await new Api(server.base, { cookie }).ok('GET', '/api/v1/auth/me');
  return new Api(server.base, { cookie, csrf: me.csrf_token });
}

test('a signed-out browser is sent to sign in, on the panel and on the console', async () => {
  const page = await newPage();
  await page.goto(server.url('/panel'));
  await page.getByRole('heading', { name: 'Logowanie' }).waitFor();
  await checkA11y(page, 'the sign-in page');
  await page.goto(server.url('/panel/manager'));
  await page.getByRole('heading', { name: 'Logowanie' }).waitFor();
  await checkA11y(page, 'the console sign-in page');
  // A wrong password is said plainly and nothing else happens.
  await signIn(page, 'admin', 'not-the-password');
  await page.getByText('Nieprawidłowa nazwa użytkownika lub hasło.').waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Headless Chromium has no audio to speak of: the hall screen's player and speech do nothing. */
function quietAudio() {
  window.__kolejkaPlayer = { async play() {} };
  const speech = { speak(u) { setTimeout(() => u.onend && u.onend(), 10); }, cancel() {}, getVoices: () => [] };
  Object.defineProperty(window, 'speechSynthesis', { value: speech, configurable: true });
}

/** The kiosk page, if there is one: it pairs itself (the demo approves loopback devices). */
async function openKiosk() {
  if (!existsSync(join(REPO, 'kiosk', 'index.html'))) return null;
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1080, height: 1920 } });
  await context.addInitScript(quietAudio);
  const page = await context.newPage();
  await page.goto(server.url('/kiosk'));
  await page.locator('button.case[data-code="dowody"]').waitFor({ timeout: 20000 });
  return page;
}

/** Takes a ticket at the kiosk page: case type, "Pobierz bilet", read the number, "Gotowe". */
async function takeTicket(page, code) {
  await page.locator(`button.case[data-code="${code}"]`).click();
  // The kiosk ignores a tap within 400 ms of a new step (the second half of a double tap).
  await page.waitForTimeout(450);
  await page.locator('#btn-take').click();
  await page.locator('#step-issued:not([hidden])').waitFor({ timeout: 10000 });
  const number = (await page.locator('#issued-number').textContent()).trim();
  await page.waitForTimeout(450);
  await page.locator('#btn-done').click();
  await page.locator(`button.case[data-code="${code}"]`).waitFor();
  await page.waitForTimeout(450);
  return number;
}

test('clerks work a morning by keyboard; the manager moves a counter; actions are never doubled', async () => {
  const kiosk = new Api(server.base, { token: await deviceToken(server, 'kiosk', 'Kiosk parter') });
  const kioskPage = await openKiosk();
  const issue = async (case_type) => (kioskPage
    ? takeTicket(kioskPage, case_type)
    : (await kiosk.ok('POST', '/api/v1/tickets', { case_type, lang: 'pl' })).ticket.number);

  const anna = await user(server, 'anna', 'clerk');
  const piotr = await user(server, 'piotr', 'clerk');
  const boss = await user(server, 'kierownik', 'manager');

  // The kiosk issues tickets of three case types.
  const issued = [];
  for (const ct of ['dowody', 'dowody', 'meldunki', 'dowody', 'pojazdy', 'meldunki']) issued.push(await issue(ct));
  assert.deepEqual(issued, ['A001', 'A002', 'B001', 'A003', 'C001', 'B002']);

  // Hall screen, if the hall-screen page exists: it must show every call.
  const hallExists = existsSync(join(REPO, 'display', 'index.html'));
  let hall = null;
  if (hallExists) {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1920, height: 1080 } });
    await context.addInitScript(quietAudio);
    hall = await context.newPage();
    await hall.goto(server.url('/display'));
    await hall.waitForSelector('#app:not([hidden])', { timeout: 20000 });
  }

  // Anna signs in at counter 1 (ID cards 10, residence 5).
  const a = await newPage();
  await a.goto(server.url('/panel'));
  await signIn(a, 'anna', anna.password);
  await a.getByRole('heading', { name: 'Wybierz stanowisko' }).waitFor();
  await a.getByRole('button', { name: 'Otwórz Stanowisko 1' }).click();
  await enabled(a, 'btn-next');
  await a.locator('#queues tr').first().waitFor();
  assert.match(await a.locator('#queues').textContent(), /Dowody osobiste/);

  // Piotr signs in at counter 4 (vehicles).
  const p = await newPage();
  await p.goto(server.url('/panel'));
  await signIn(p, 'piotr', piotr.password);
  await p.getByRole('button', { name: 'Otwórz Stanowisko 4' }).click();
  await enabled(p, 'btn-next');

  // Anna: N calls A001, R recalls it, S starts, D finishes.
  await press(a, 'n');
  await waitNumber(a, 'A001');
  await waitState(a, 'wezwany');
  await press(a, 'r');
  await a.waitForFunction(() => document.querySelector('#cur-meta').textContent.includes('wezwań: 2'));
  await press(a, 's');
  await waitState(a, 'w obsłudze');
  await a.waitForFunction(() => /Czas obsługi/.test(document.querySelector('#cur-timer-label').textContent));
  await checkA11y(a, 'the clerk panel serving a ticket');
  // Reprint (K): the printing room answers (printed, queued, or why not).
  await enabled(a, 'btn-reprint');
  await press(a, 'k');
  await a.locator('#failure', { hasText: /A001/ }).waitFor();
  await a.getByRole('button', { name: 'Zamknij', exact: true }).click();
  await press(a, 'd');
  await waitNumber(a, '—');

  // Space calls the next one (A002); it is a no-show (X).
  await press(a, ' ');
  await waitNumber(a, 'A002');
  await press(a, 'x');
  await waitNumber(a, '—');

  // Piotr calls C001 and transfers it (T) to residence registration.
  await press(p, 'n');
  await waitNumber(p, 'C001');
  await press(p, 't');
  await p.locator('#dlg-transfer[open]').waitFor();
  await p.getByLabel(/B · Meldunki/).check();
  await p.getByRole('button', { name: 'Przekaż', exact: true }).click();
  await waitNumber(p, '—');
  const c001 = await boss.ok('GET', '/api/v1/tickets/C001');
  assert.equal(c001.case_type, 'meldunki');
  assert.equal(c001.state, 'waiting');

  // Anna calls a specific ticket (C) from the waiting list: B002, past A003 and B001.
  await press(a, 'c');
  await a.locator('#dlg-call[open]').waitFor();
  await a.getByLabel('Numer biletu').fill('b002');
  await a.keyboard.press('Enter');
  await waitNumber(a, 'B002');
  await press(a, 's');
  await waitState(a, 'w obsłudze');
  await press(a, 'd');
  await waitNumber(a, '—');
  // The no-show A002 is on the list to call back with its button.
  await a.getByRole('button', { name: 'Wezwij A002' }).waitFor();

  // A press whose answer is lost: the panel says so and retries the same press, which the
  // server does not do twice.
  await a.route('**/api/v1/counters/1/call-next', async (route) => {
    await route.fetch(); // the server acts...
    await route.abort('connectionreset'); // ...and the answer never arrives
  });
  await press(a, 'n');
  await a.getByText('Nie udało się: „Wezwanie następnego”.').waitFor();
  await a.unroute('**/api/v1/counters/1/call-next');
  const serverSide = (await boss.ok('GET', '/api/v1/counters')).find((c) => c.id === 1);
  assert.equal(serverSide.current.number, 'A003');
  await a.getByRole('button', { name: 'Ponów' }).click();
  await waitNumber(a, 'A003');
  assert.equal(await a.locator('#failure').isHidden(), true);
  const tickets = await boss.ok('GET', '/api/v1/tickets');
  const called = tickets.filter((t) => t.state === 'called');
  assert.deepEqual(called.map((t) => t.number), ['A003'], 'the retried press called one ticket');
  // Park it (P), pause (B) with a reason, resume (W).
  await press(a, 'p');
  await waitNumber(a, '—');
  await press(a, 'b');
  await a.locator('#dlg-pause[open]').waitFor();
  await a.getByLabel('Praca biurowa').check();
  await a.getByRole('button', { name: 'Rozpocznij przerwę' }).click();
  await a.waitForFunction(() => document.querySelector('#counter-status').textContent.includes('Przerwa (Praca biurowa)'));
  await checkA11y(a, 'the clerk panel paused');
  await press(a, 'w');
  await a.waitForFunction(() => document.querySelector('#counter-status').textContent.includes('Otwarte'));

  // The manager moves counter 4 to ID cards only, in the console.
  const m = await newPage();
  await m.goto(server.url('/panel/manager'));
  await signIn(m, 'kierownik', boss.password);
  await m.getByRole('heading', { name: 'Przegląd' }).waitFor();
  await m.locator('#overview-counters tr', { hasText: 'Stanowisko 4' }).waitFor();
  await checkA11y(m, 'the manager console overview');
  await m.getByRole('link', { name: 'Stanowiska' }).click();
  await m.getByLabel('Stanowisko do zmiany').selectOption('4');
  await m.getByLabel('Rejestracja pojazdów: obsługuje').uncheck();
  await m.getByLabel('Prawa jazdy: obsługuje').uncheck();
  await m.getByLabel('Dowody osobiste: obsługuje').check();
  await m.getByLabel('Dowody osobiste: waga').fill('7');
  await m.getByRole('button', { name: 'Zapisz sprawy stanowiska' }).click();
  await m.getByText('Zapisano: Stanowisko 4').waitFor();
  await checkA11y(m, 'the manager console counters');
  const c4 = (await boss.ok('GET', '/api/v1/counters')).find((c) => c.id === 4);
  assert.deepEqual(c4.serves, [{ case_type: 'dowody', weight: 7 }]);

  // Counter 4's next call takes an ID-card ticket.
  const a4 = await issue('dowody');
  await p.waitForFunction(() => document.querySelector('#queues').textContent.includes('Dowody osobiste'));
  await press(p, 'n');
  await p.waitForFunction(() => /^A\d+$/.test(document.querySelector('#cur-number').textContent.trim()));
  const p4 = await currentNumber(p);
  assert.ok(['A004', a4].includes(p4), `counter 4 called ${p4}`);
  assert.equal((await boss.ok('GET', `/api/v1/tickets/${p4}`)).case_type, 'dowody');

  // The hall screen showed every call.
  if (hall) {
    for (const n of ['A001', 'A002', 'C001', 'B002', 'A003', p4]) {
      await hall.waitForFunction((x) => document.body.textContent.includes(x), n, { timeout: 10000 });
    }
    await hall.context().close();
  }

  // The audit log shows the manager's change with before and after.
  await m.getByRole('link', { name: 'Dziennik zmian' }).click();
  await m.getByLabel('Czynność').fill('counter.');
  await m.getByRole('button', { name: 'Pokaż' }).click();
  await m.locator('#audit-rows tr', { hasText: 'counter.serves' }).first().waitFor();
  assert.match(await m.locator('#audit-rows').textContent(), /kierownik/);
  await checkA11y(m, 'the audit log');

  assert.deepEqual(a.errors, []);
  assert.deepEqual(p.errors, []);
  assert.deepEqual(m.errors, []);
  for (const pg of [a, p, m]) await pg.context().close();
  if (kioskPage) await kioskPage.context().close();
});

test('the manager posts a message, approves a device; the admin creates a user', async () => {
  const boss = await user(server, 'kierownik2', 'manager');
  const m = await newPage();
  await m.goto(server.url('/panel/manager'));
  await signIn(m, 'kierownik2', boss.password);
  await m.getByRole('heading', { name: 'Przegląd' }).waitFor();

  // Hall message.
  await m.getByRole('link', { name: 'Komunikaty' }).click();
  await m.getByLabel('Treść (po polsku)').fill('Wydział komunikacji nieczynny 12:00–13:00');
  await m.getByRole('button', { name: 'Opublikuj komunikat' }).click();
  await m.locator('#messages-list li', { hasText: 'Wydział komunikacji nieczynny' }).waitFor();
  await checkA11y(m, 'the manager console messages');
  const msgs = await boss.ok('GET', '/api/v1/messages');
  assert.ok(msgs.some((x) => x.text.pl.startsWith('Wydział komunikacji') && x.status === 'active'));
  m.once('dialog', (d) => d.accept());
  await m.getByRole('button', { name: /Wycofaj: Wydział komunikacji/ }).click();
  await m.locator('#messages-list li', { hasText: 'Wydział komunikacji nieczynny' }).waitFor({ state: 'detached' });

  // Issuing and a daily cap.
  await m.getByRole('link', { name: 'Sprawy' }).click();
  await m.getByRole('button', { name: 'Wstrzymaj wydawanie: Rejestracja pojazdów' }).click();
  await m.locator('#case-types-rows tr', { hasText: 'wstrzymane przez kierownika' }).waitFor();
  await m.getByLabel('Dzienny limit: Urząd Stanu Cywilnego (urodzenia, małżeństwa, zgony)').fill('25');
  await m.getByRole('button', { name: 'Ustaw limit: Urząd Stanu Cywilnego (urodzenia, małżeństwa, zgony)' }).click();
  await m.getByText('Zapisano limit').waitFor();
  const usc = (await boss.ok('GET', '/api/v1/queues')).case_types.find((q) => q.code === 'usc');
  assert.equal(usc.daily_cap, 25);
  await checkA11y(m, 'the manager console case types');

  // A device waiting with a pairing code, approved from the console.
  const pair = await new Api(server.base).ok('POST', '/api/v1/devices/pair', { kind: 'screen', name: 'TV' });
  let code = pair.pairing_code;
  if (pair.status === 'approved') {
    // The demo approves loopback devices at once; pair "through a proxy" to get a code.
    const resp = await fetch(server.url('/api/v1/devices/pair'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.7' },
      body: JSON.stringify({ kind: 'screen', name: 'TV' }),
    });
    code = (await resp.json()).pairing_code;
  }
  await m.getByRole('link', { name: 'Urządzenia' }).click();
  await m.getByLabel('Kod parowania').fill(code);
  await m.getByLabel('Nazwa urządzenia').fill('Ekran sala B');
  await m.getByRole('button', { name: 'Zatwierdź urządzenie' }).click();
  await m.locator('#devices-rows tr', { hasText: 'Ekran sala B' }).waitFor();
  await checkA11y(m, 'the manager console devices');

  // Cancel a ticket with a reason.
  const kiosk = new Api(server.base, { token: await deviceToken(server, 'kiosk', 'Kiosk 2') });
  const t = (await kiosk.ok('POST', '/api/v1/tickets', { case_type: 'podatki', lang: 'pl' })).ticket.number;
  await m.getByRole('link', { name: 'Bilety' }).click();
  await m.getByLabel('Numer biletu do anulowania').fill(t);
  await m.getByLabel('Powód anulowania').fill('Klient zrezygnował');
  m.once('dialog', (d) => d.accept());
  await m.getByRole('button', { name: 'Anuluj bilet' }).click();
  await m.getByText(`Anulowano bilet ${t}`).waitFor();
  assert.equal((await boss.ok('GET', `/api/v1/tickets/${t}`)).state, 'cancelled');

  // The manager manages clerks' accounts (and only those): creates one, is told the rest is
  // the admin's; the admin creates and disables another.
  await m.getByRole('link', { name: 'Użytkownicy' }).click();
  await m.getByText('Kontami kierowników i administratorów zarządza administrator').waitFor();
  assert.deepEqual(
    await m.getByLabel('Rola nowego użytkownika').locator('option').evaluateAll((os) => os.map((o) => o.value)),
    ['clerk'],
  );
  await m.getByLabel('Nazwa nowego użytkownika').fill('kuba');
  await m.getByLabel('Hasło nowego użytkownika').fill('kuba-long-password');
  await m.getByRole('button', { name: 'Utwórz użytkownika' }).click();
  await m.locator('#users-rows tr', { hasText: 'kuba' }).waitFor();
  await Api.login(server.base, 'kuba', 'kuba-long-password');
  await m
    .locator('#users-rows tr')
    .filter({ has: m.getByRole('rowheader', { name: 'admin', exact: true }) })
    .getByText('zmienia administrator')
    .waitFor();
  await checkA11y(m, 'the manager console users (manager)');
  await m.context().close();

  const ad = await newPage();
  await ad.goto(server.url('/panel/manager#uzytkownicy'));
  await signIn(ad, 'admin', server.adminPassword);
  await ad.getByRole('heading', { name: 'Użytkownicy' }).waitFor();
  await ad.getByLabel('Nazwa nowego użytkownika').fill('marta');
  await ad.getByLabel('Rola nowego użytkownika').selectOption('clerk');
  await ad.getByLabel('Hasło nowego użytkownika').fill('marta-long-password');
  await ad.getByRole('button', { name: 'Utwórz użytkownika' }).click();
  await ad.locator('#users-rows tr', { hasText: 'marta' }).waitFor();
  await checkA11y(ad, 'the manager console users');
  await Api.login(server.base, 'marta', 'marta-long-password');
  // Disable her: she can no longer sign in.
  ad.once('dialog', (d) => d.accept());
  await ad.getByRole('button', { name: 'Zablokuj: marta' }).click();
  await ad.locator('#users-rows tr', { hasText: 'marta' }).getByText('zablokowany').waitFor();
  await assert.rejects(Api.login(server.base, 'marta', 'marta-long-password'));
  assert.deepEqual(ad.errors, []);
  await ad.context().close();
});

test('a clerk cannot reach the manager console or its actions', async () => {
  const clerk = await user(server, 'ola', 'clerk');
  const page = await newPage();
  await page.goto(server.url('/panel/manager'));
  await signIn(page, 'ola', clerk.password);
  await page.getByRole('heading', { name: 'Brak dostępu' }).waitFor();
  assert.match(await page.locator('main').textContent(), /403/);
  await checkA11y(page, 'the console refusing a clerk');
  const api = await apiAs(page);
  for (const [method, path, body] of [
    ['PUT', '/api/v1/counters/1/serves', { serves: [{ case_type: 'dowody', weight: 1 }] }],
    ['PUT', '/api/v1/case-types/dowody/issuing', { open: false }],
    ['POST', '/api/v1/messages', { text: 'x' }],
    ['GET', '/api/v1/audit'],
    ['GET', '/api/v1/devices'],
  ]) {
    const r = await api.request(method, path, body);
    assert.equal(r.status, 403, `${method} ${path}`);
  }
  // The clerk's own panel still works for them.
  await page.goto(server.url('/panel'));
  await page.getByRole('heading', { name: 'Wybierz stanowisko' }).waitFor();
  await checkA11y(page, 'the counter chooser');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('after a network blip the clerk panel reconnects and shows the server\'s state', async () => {
  const kiosk = new Api(server.base, { token: await deviceToken(server, 'kiosk', 'Kiosk 3') });
  const ewa = await user(server, 'ewa', 'clerk');
  const page = await newPage();
  // Every socket of the page goes through here, so the test can cut them and refuse new ones.
  let cut = false;
  const routes = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (cut) {
      ws.close({ code: 1012, reason: 'blip' });
      return;
    }
    const srv = ws.connectToServer();
    routes.push({ ws, srv });
  });
  await page.goto(server.url('/panel'));
  await signIn(page, 'ewa', ewa.password);
  await page.getByRole('button', { name: 'Otwórz Stanowisko 2' }).click();
  await enabled(page, 'btn-next');
  const meldunki = page.locator('#queues tr', { hasText: 'Meldunki' }).locator('td').first();
  await meldunki.waitFor();

  cut = true;
  for (const r of routes.splice(0)) {
    await r.ws.close({ code: 1012, reason: 'blip' });
    await r.srv.close().catch(() => {});
  }
  await page.locator('#offline').waitFor({ state: 'visible', timeout: 15000 });
  assert.equal((await page.locator('#conn').textContent()).trim(), 'Brak połączenia');
  // Meanwhile the queue changes; the panel cannot hear of it.
  for (let i = 0; i < 2; i++) await kiosk.ok('POST', '/api/v1/tickets', { case_type: 'meldunki', lang: 'pl' });
  const waiting = (await ewa.ok('GET', '/api/v1/queues')).case_types.find((q) => q.code === 'meldunki').waiting;

  cut = false;
  await page.locator('#offline').waitFor({ state: 'hidden', timeout: 40000 });
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('#queues tr')].some((tr) => tr.textContent.includes('Meldunki') && tr.querySelector('td')?.textContent === String(n)),
    waiting,
    { timeout: 10000 },
  );
  assert.equal((await page.locator('#conn').textContent()).trim(), 'Połączono');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
