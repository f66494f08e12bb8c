// The kiosk and the phone page in Debian's Chromium: a citizen switches to Ukrainian, picks a
// case type, reads the documents, declares priority and gets a ticket; the ESC/POS bytes reach
// a TCP printer (a Node `net` server standing in for one); the phone page of that ticket shows
// it called when a clerk calls it. A kiosk whose printer refuses connections says so and shows
// the phone QR code; a kiosk whose server goes away says so plainly and recovers by itself.
// axe-core finds no WCAG 2.1 A/AA violation on any step of the kiosk or on the phone page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, checkA11y, launchBrowser, startServer, user } from './harness.mjs';

/** A network printer on 127.0.0.1: keeps every connection's bytes. */
async function tcpPrinter() {
  const jobs = [];
  const server = net.createServer((socket) => {
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => {
      jobs.push(Buffer.concat(chunks));
      socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { port: server.address().port, jobs, close: () => new Promise((ok) => server.close(ok)) };
}

/** A port where nothing listens. */
async function freePort() {
  const s = net.createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

/**
 * The demo office (config/office.toml) with its virtual printer replaced: `hall` on the TCP
 * printer for every kiosk, and `broken` (nothing listens there) for the kiosk "Kiosk piętro".
 */
function officeWithPrinters(dir, printerPort, brokenPort) {
  const demo = readFileSync(join(REPO, 'config', 'office.toml'), 'utf8');
  const start = demo.indexOf('[[printers]]\nname = "virtual"');
  const end = demo.indexOf('transport = "virtual"', start) + 'transport = "virtual"'.length;
  assert.ok(start > 0 && end > start, 'the demo office has its virtual printer');
  const printers = [
    '[[printers]]',
    'name = "hall"',
    'profile = "generic-80mm"',
    `transport = "tcp://127.0.0.1:${printerPort}"`,
    '',
    '[[printers]]',
    'name = "broken"',
    'profile = "generic-80mm"',
    `transport = "tcp://127.0.0.1:${brokenPort}"`,
    'kiosks = ["Kiosk piętro"]',
  ].join('\n');
  const text = (demo.slice(0, start) + printers + demo.slice(end)).replace(
    'default_printer = "virtual"',
    'default_printer = "hall"',
  );
  const file = join(dir, 'office.toml');
  writeFileSync(file, text);
  return file;
}

async function kioskPage(browser, base, name, viewport = { width: 1080, height: 1920 }) {
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/kiosk?name=${encodeURIComponent(name)}`);
  await page.waitForSelector('#step-start:not([hidden]) .case', { timeout: 20000 });
  return { page, context, errors };
}

/**
 * Taps a button of a step that has just appeared: the kiosk ignores a tap within 400 ms of a
 * step appearing (the second half of a double tap), as a person's first tap never comes sooner.
 */
async function tap(page, selector) {
  await page.waitForTimeout(450);
  await page.click(selector);
}

async function waitFor(check, what, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

test('a ticket in Ukrainian with priority: printed on the TCP printer, followed on the phone until called', async () => {
  const printer = await tcpPrinter();
  const dir = mkdtempSync(join(tmpdir(), 'kolejka-kiosk-'));
  const config = officeWithPrinters(dir, printer.port, await freePort());
  const server = await startServer({ config });
  const browser = await launchBrowser();
  try {
    const { page, errors } = await kioskPage(browser, server.base, 'Kiosk parter');
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');
    assert.equal(await page.textContent('#start-title'), 'W jakiej sprawie przychodzisz?');
    await checkA11y(page, 'the kiosk: case types (Polish)');
    // Big targets, in the lower part of the portrait screen (within reach from a wheelchair).
    const boxes = await page.$$eval('button:not([hidden])', (bs) =>
      bs.filter((b) => b.offsetParent).map((b) => {
        const r = b.getBoundingClientRect();
        return { text: b.textContent.trim().slice(0, 30), top: r.top, height: r.height };
      }),
    );
    for (const b of boxes) {
      assert.ok(b.height >= 64, `${b.text}: ${b.height} px high`);
      assert.ok(b.top >= 1920 * 0.35, `${b.text}: at ${b.top} px from the top`);
    }

    // Ukrainian.
    await page.click('.lang[data-lang="uk"]');
    assert.equal(await page.getAttribute('html', 'lang'), 'uk');
    assert.equal(await page.getAttribute('.lang[data-lang="uk"]', 'aria-pressed'), 'true');
    assert.equal(await page.textContent('#start-title'), 'З якого питання ви прийшли?');
    const idCards = page.locator('.case[data-code="dowody"]');
    assert.match(await idCards.textContent(), /Посвідчення особи/);
    assert.match(await idCards.textContent(), /Ніхто не чекає/);
    await checkA11y(page, 'the kiosk: case types (Ukrainian)');

    // The documents to bring come before the ticket.
    await idCards.click();
    await page.waitForSelector('#step-case:not([hidden])');
    assert.equal(await page.textContent('#case-title'), 'Посвідчення особи (dowód osobisty)');
    assert.match(await page.textContent('#case-docs'), /кольорова фотографія 35x45 мм/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'case-title');
    await checkA11y(page, 'the kiosk: documents to bring');

    // Priority, self-declared.
    await tap(page, '#btn-priority');
    await page.waitForSelector('#step-priority:not([hidden])');
    assert.equal(await page.textContent('#priority-title'), 'Обслуговування поза чергою');
    await checkA11y(page, 'the kiosk: priority categories');
    const issuedResponse = page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/tickets') && r.request().method() === 'POST',
    );
    await tap(page, '.category[data-priority="ciaza"]');
    const issued = await (await issuedResponse).json();
    assert.equal(issued.ticket.number, 'A001');
    assert.equal(issued.ticket.priority, true);
    assert.equal(issued.print.status, 'printed');

    await page.waitForSelector('#step-issued:not([hidden])');
    assert.equal(await page.textContent('#issued-number'), 'A001');
    assert.equal(await page.textContent('#issued-print'), 'Будь ласка, візьміть талон із принтера.');
    assert.equal(await page.isHidden('#issued-qr'), true, 'no QR code when the ticket is printed');
    // Never the category on the screen.
    const screenText = await page.textContent('body');
    assert.doesNotMatch(screenText.replace(await page.textContent('#categories'), ''), /Вагітна/);
    await checkA11y(page, 'the kiosk: the ticket');

    // The printer got ESC/POS with the number (and nothing about priority).
    const job = await waitFor(() => printer.jobs.find((j) => j.includes('A001')), 'the printed ticket');
    assert.ok(job.includes(Buffer.from([0x1b, 0x40])), 'ESC @ (initialise)');
    assert.ok(job.includes(Buffer.from([0x1d, 0x56])), 'GS V (cut)');
    assert.ok(!job.includes('ciaza'), 'no priority category on paper');
    assert.ok(job.includes(issued.phone.url), 'the phone link in the QR code');

    // "Done": back to the start, in Polish.
    await tap(page, '#btn-done');
    await page.waitForSelector('#step-start:not([hidden])');
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');

    // The phone page, in the ticket's language.
    const phoneContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      bypassCSP: true,
    });
    const phone = await phoneContext.newPage();
    await phone.goto(issued.phone.url);
    await phone.waitForFunction(() => document.getElementById('number').textContent === 'A001');
    assert.equal(await phone.getAttribute('html', 'lang'), 'uk');
    assert.equal(await phone.textContent('#state-text'), 'Ви в черзі.');
    assert.equal(await phone.textContent('#ahead'), 'Осіб перед вами: 0');
    assert.doesNotMatch(await phone.textContent('body'), /Вагітна|ciaza|priority/);
    await checkA11y(phone, 'the phone page: waiting');

    // A clerk calls it: the phone says which counter.
    const clerk = await user(server, 'anna', 'clerk');
    await clerk.ok('POST', '/api/v1/counters/1/open', {});
    const called = await clerk.ok('POST', '/api/v1/counters/1/call-next', {});
    assert.equal(called.ticket.number, 'A001');
    await phone.waitForSelector('main[data-state="called"]', { timeout: 15000 });
    assert.equal(await phone.textContent('#state-text'), 'Запрошуємо! Підійдіть до вікна:');
    assert.equal(await phone.textContent('#counter'), 'Вікно 1 (Перший поверх, зала A)');
    await checkA11y(phone, 'the phone page: called');

    // Served and done.
    await clerk.ok('POST', '/api/v1/counters/1/start', {});
    await clerk.ok('POST', '/api/v1/counters/1/finish', {});
    await phone.waitForSelector('main[data-state="done"]', { timeout: 15000 });
    assert.equal(await phone.textContent('#state-text'), 'Обслуговування завершено. Дякуємо!');

    // A made-up link says it is not valid, in every language.
    await phone.goto(`${server.base}/t/1.AAAAAAAAAAAAAAAAAAAAAA`);
    await phone.waitForSelector('main[data-state="invalid"]');
    assert.match(await phone.textContent('#state-text'), /недійсне/);
    await checkA11y(phone, 'the phone page: an invalid link');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
    await printer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keyboard only, landscape: a ticket whose printer fails shows the number longer and the phone QR code', async () => {
  const printer = await tcpPrinter();
  const dir = mkdtempSync(join(tmpdir(), 'kolejka-kiosk-'));
  const config = officeWithPrinters(dir, printer.port, await freePort());
  const server = await startServer({ config });
  const browser = await launchBrowser();
  try {
    const { page, errors } = await kioskPage(browser, server.base, 'Kiosk piętro', { width: 1920, height: 1080 });
    // English, by keyboard: the language buttons are in the tab order.
    await page.focus('.lang[data-lang="en"]');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.textContent('#start-title'), 'What is your visit about?');

    // Case types that take no tickets now are shown disabled, with the reason, live.
    const manager = await user(server, 'kierownik', 'manager');
    await manager.ok('PUT', '/api/v1/case-types/pojazdy/daily-cap', { cap: 0 });
    await manager.ok('PUT', '/api/v1/case-types/usc/issuing', { open: false });
    const vehicles = page.locator('.case[data-code="pojazdy"]');
    await page.waitForFunction(
      () => /Daily ticket limit reached/.test(document.querySelector('.case[data-code="pojazdy"]').textContent),
      null,
      { timeout: 10000 },
    );
    assert.equal(await vehicles.getAttribute('aria-disabled'), 'true');
    assert.match(await page.textContent('.case[data-code="usc"]'), /Tickets paused/);
    await vehicles.click({ force: true });
    assert.equal(await page.isVisible('#step-start'), true, 'a disabled case type does not open');
    await checkA11y(page, 'the kiosk: case types, two of them not issuing (landscape)');

    // Tab to a case type, open it; Escape goes back; open it again and take a ticket.
    await page.focus('#start-title');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.code), 'dowody');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.code), 'meldunki');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#step-case:not([hidden])');
    assert.equal(await page.textContent('#case-title'), 'Residence registration (meldunek)');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#step-start:not([hidden])');
    await page.focus('.case[data-code="meldunki"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#step-case:not([hidden])');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-take');
    const focusRing = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(focusRing, 'solid', 'the focus is visible');
    await page.keyboard.press('Enter');

    await page.waitForSelector('#step-issued:not([hidden])');
    assert.equal(await page.textContent('#issued-number'), 'B001');
    assert.match(await page.textContent('#issued-print'), /could not be printed/);
    await page.waitForSelector('#issued-qr:not([hidden]) img');
    const qr = await page.evaluate(async () => {
      const img = document.getElementById('issued-qr-img');
      await img.decode();
      return { alt: img.alt, width: img.naturalWidth, src: img.getAttribute('src') };
    });
    assert.equal(qr.alt, 'QR code linking to your ticket on your phone');
    assert.ok(qr.width > 0, 'the QR code image loads');
    await checkA11y(page, 'the kiosk: a ticket that could not be printed (landscape)');
    // Nothing reached the working printer for this kiosk.
    assert.equal(printer.jobs.length, 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
    await printer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `kolejka serve` on a fixed port, so that a page can find it again after a restart. */
async function serveOn(port, dir, config) {
  const proc = spawn(
    BIN,
    ['serve', '--listen', `127.0.0.1:${port}`, '--db', join(dir, 'kolejka.db'), '--config', config],
    { env: { ...process.env, RUST_LOG: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const logs = [];
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`kolejka did not start:\n${logs.join('\n')}`)), 20000);
    proc.stderr.on('data', (chunk) => {
      logs.push(chunk.toString());
      if (logs.join('').includes('listening on')) {
        clearTimeout(timer);
        ok();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`kolejka exited with ${code}:\n${logs.join('')}`));
    });
  });
  return {
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((ok) => proc.once('exit', ok));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

test('the server goes away: the kiosk says so plainly, and recovers by itself when it is back', async () => {
  const printer = await tcpPrinter();
  const dir = mkdtempSync(join(tmpdir(), 'kolejka-kiosk-'));
  const config = officeWithPrinters(dir, printer.port, await freePort());
  const port = await freePort();
  let server = await serveOn(port, dir, config);
  const browser = await launchBrowser();
  try {
    const { page } = await kioskPage(browser, `http://127.0.0.1:${port}`, 'Kiosk parter');
    await page.click('.lang[data-lang="uk"]');
    assert.equal(await page.isHidden('#offline'), true);

    await server.stop();
    await page.waitForSelector('#offline:not([hidden])', { timeout: 20000 });
    assert.equal(
      await page.textContent('#offline p'),
      'Немає зв’язку із системою черги. Будь ласка, зверніться до інформаційного пункту.',
    );
    assert.equal(await page.getAttribute('#offline', 'role'), 'alert');
    // In every language: the citizen may not read the one on screen.
    assert.match(await page.textContent('#offline'), /Please ask at the information desk/);
    assert.match(await page.textContent('#offline'), /Prosimy podejść do punktu informacyjnego/);
    await checkA11y(page, 'the kiosk: server unreachable');

    server = await serveOn(port, dir, config);
    await page.waitForSelector('#offline', { state: 'hidden', timeout: 30000 });
    await page.waitForSelector('#step-start:not([hidden]) .case');
    // Back to a fresh start, in Polish, and tickets can be taken again.
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');
    await page.click('.case[data-code="podatki"]');
    await tap(page, '#btn-take');
    await page.waitForSelector('#step-issued:not([hidden])');
    assert.equal(await page.textContent('#issued-number'), 'F001');
  } finally {
    await browser.close();
    await server.stop();
    await printer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('time limits: back to Polish only after 90 s idle, and a step being read is never cut short without asking', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1080, height: 1920 }, bypassCSP: true });
    const page = await context.newPage();
    await page.clock.install();
    await page.goto(server.url('/kiosk?name=Kiosk%20parter'));
    await page.waitForSelector('#step-start:not([hidden]) .case', { timeout: 20000 });

    await page.click('.lang[data-lang="en"]');
    await page.clock.fastForward(60_000);
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'not before a minute and more');
    await page.clock.fastForward(31_000);
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');

    // Someone reading the documents is asked first; "more time" gives more time.
    await page.click('.lang[data-lang="uk"]');
    await page.click('.case[data-code="usc"]');
    // The second half of a double tap does not take a ticket from the button under it.
    await page.click('#btn-take');
    assert.equal(await page.isVisible('#step-case'), true);
    await page.clock.fastForward(119_000);
    assert.equal(await page.isVisible('#dlg-more-time'), false);
    await page.clock.fastForward(2_000);
    await page.waitForSelector('#dlg-more-time[open]');
    assert.equal(await page.textContent('#more-time-title'), 'Вам потрібно більше часу?');
    await checkA11y(page, 'the kiosk: do you need more time?');
    await page.click('#btn-more-time');
    assert.equal(await page.isVisible('#dlg-more-time'), false);
    assert.equal(await page.isVisible('#step-case'), true);
    assert.equal(await page.getAttribute('html', 'lang'), 'uk');

    // Nobody answers: start again, in Polish.
    await page.clock.fastForward(121_000);
    await page.waitForSelector('#dlg-more-time[open]');
    await page.clock.fastForward(61_000);
    await page.waitForSelector('#step-start:not([hidden])');
    assert.equal(await page.isVisible('#dlg-more-time'), false);
    assert.equal(await page.getAttribute('html', 'lang'), 'pl');
  } finally {
    await browser.close();
    await server.stop();
  }
});
