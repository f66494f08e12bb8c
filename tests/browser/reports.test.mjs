// The reports page (/panel/manager/reports): a manager signs in through the page, sees today's
// figures, charts that are images with a name and a table of the same numbers after them, the
// weekday heat map as a table, CSV links that give UTF-8 with a BOM, the printable daily
// summary, and staffing; the page keeps to the Content Security Policy and axe-core finds no
// WCAG 2.1 A/AA violation. A clerk is told the page is not for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Api, checkA11y, deviceToken, launchBrowser, startServer, user } from './harness.mjs';

/** A little history for today: tickets issued, called, served, a no-show. */
async function seedToday(server) {
  const kiosk = new Api(server.base, { token: await deviceToken(server, 'kiosk') });
  for (const ct of ['dowody', 'dowody', 'meldunki', 'pojazdy']) {
    await kiosk.ok('POST', '/api/v1/tickets', { case_type: ct, lang: 'pl' });
  }
  const clerk = await user(server, 'ewa', 'clerk');
  await clerk.ok('POST', '/api/v1/counters/1/open', {});
  await clerk.ok('POST', '/api/v1/counters/1/call-next', {});
  await clerk.ok('POST', '/api/v1/counters/1/start', {});
  await clerk.ok('POST', '/api/v1/counters/1/finish', {});
  await clerk.ok('POST', '/api/v1/counters/1/call-next', {});
  await clerk.ok('POST', '/api/v1/counters/1/no-show', {});
  return clerk;
}

async function signIn(page, name, password) {
  await page.fill('#signin-user', name);
  await page.fill('#signin-pass', password);
  await page.click('form.signin button[type="submit"]');
}

test('the reports page shows figures, accessible charts and exports', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    await seedToday(server);
    const manager = await user(server, 'kierownik', 'manager');

    // First under the real Content Security Policy: nothing may be refused.
    const strict = await browser.newContext();
    const page = await strict.newPage();
    const refused = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url('/panel/manager/reports'));
    await page.waitForSelector('#signin-user');
    await signIn(page, 'kierownik', manager.password);
    await page.waitForSelector('#report:not([hidden])');
    await page.waitForSelector('#kpis .kpi');
    assert.deepEqual(refused, [], 'CSP violations');
    assert.deepEqual(errors, [], 'script errors');

    const kpis = await page.$$eval('#kpis .kpi', (els) => els.map((e) => [e.querySelector('dt').textContent, e.querySelector('dd').textContent]));
    const kpi = Object.fromEntries(kpis);
    assert.equal(kpi['Wydane bilety'], '4');
    assert.equal(kpi['Obsłużeni'], '1');
    assert.equal(kpi['Nieobecni'], '1');
    assert.match(await page.textContent('#report-title'), /^Podsumowanie dnia:/);

    // The case-type table, with a total row.
    const rows = await page.$$eval('#t-case-types tbody tr', (trs) => trs.map((tr) => tr.querySelector('th').textContent));
    assert.ok(rows.some((r) => r.startsWith('Dowody osobiste')), rows.join(' | '));
    assert.equal(rows[rows.length - 1], 'Razem');

    // Every chart is an image with a name and a description, followed by its data table.
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((s) => {
        const ids = (s.getAttribute('aria-labelledby') || '').split(' ');
        const fig = s.closest('figure');
        const table = fig && fig.querySelector('table.chart-data');
        return {
          role: s.getAttribute('role'),
          named: ids.length === 2 && ids.every((id) => document.getElementById(id) && document.getElementById(id).textContent.trim() !== ''),
          caption: table ? table.caption.textContent : null,
          rows: table ? table.tBodies[0].rows.length : 0,
        };
      }),
    );
    assert.ok(charts.length >= 4, `charts: ${JSON.stringify(charts)}`);
    for (const c of charts) {
      assert.equal(c.role, 'img');
      assert.ok(c.named, 'the chart has a title and a description');
      assert.match(c.caption, /dane wykresu/);
      assert.ok(c.rows > 0);
    }
    // One day's report needs no day-by-day chart; the hours chart's table holds its arrivals.
    assert.equal(await page.$eval('#days-h', (el) => el.closest('section').hidden), true);
    const perHour = await page.$$eval('#chart-hours table.chart-data', (ts) =>
      [...ts[0].tBodies[0].rows].map((tr) => Number(tr.cells[1].textContent.replace(',', '.'))),
    );
    assert.equal(perHour.reduce((a, b) => a + b, 0), 4);
    // The heat map is a table with row and column headers.
    assert.ok(await page.$('#heatmap table.heat th[scope="row"]'));
    assert.ok(await page.$('#heatmap table.heat th[scope="col"]'));
    // Counters and clerks.
    const clerks = await page.$$eval('#t-clerks tbody th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(clerks, ['ewa']);

    // CSV exports: UTF-8 with a byte-order mark, semicolons.
    const links = await page.$$eval('#exports a', (as) => as.map((a) => a.getAttribute('href')));
    assert.equal(links.length, 6);
    const csv = await page.evaluate(async (href) => {
      const r = await fetch(href);
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type'), head: [...b.slice(0, 3)], text: new TextDecoder().decode(b.slice(3)) };
    }, links[0]);
    assert.equal(csv.status, 200);
    assert.equal(csv.type, 'text/csv; charset=utf-8');
    assert.deepEqual(csv.head, [0xef, 0xbb, 0xbf]);
    assert.match(csv.text, /^Rodzaj sprawy;Kod;/);

    // Filtering by case type narrows the figures.
    await page.selectOption('#r-case-type', 'dowody');
    await page.click('#form-report button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('#report-title').textContent.includes('Dowody osobiste'));
    const issued = await page.$eval('#kpis .kpi dd', (dd) => dd.textContent);
    assert.equal(issued, '2');
    assert.match(page.url(), /case_type=dowody/);

    // The printable daily summary: one day, then the print dialog.
    await page.evaluate(() => {
      window.printed = 0;
      window.print = () => {
        window.printed += 1;
      };
    });
    await page.fill('#r-from', '2020-01-01');
    await page.click('#btn-print');
    await page.waitForFunction(() => window.printed === 1);
    assert.equal(await page.inputValue('#r-from'), await page.inputValue('#r-to'));
    assert.match(await page.textContent('#report-title'), /^Podsumowanie dnia:/);

    // Staffing: a table per case type, or a note that there is no data yet.
    await page.waitForFunction(() => document.querySelector('#staffing-summary').textContent !== '');
    assert.match(await page.textContent('#staffing-summary'), /dni z ruchem/);

    // Bad input is explained, not hidden.
    await page.fill('#r-from', '2026-05-10');
    await page.fill('#r-to', '2026-05-01');
    await page.click('#form-report button[type="submit"]');
    await page.waitForSelector('#failure:not([hidden])');
    assert.match(await page.textContent('#failure'), /before/);

    // axe-core (in a context that lets it in past the CSP).
    const open = await browser.newContext({ bypassCSP: true });
    const p2 = await open.newPage();
    await p2.goto(server.url('/panel/manager/reports'));
    await p2.waitForSelector('#signin-user');
    await checkA11y(p2, 'the sign-in form of the reports page');
    await signIn(p2, 'kierownik', manager.password);
    await p2.waitForSelector('#kpis .kpi');
    await p2.waitForFunction(() => document.querySelector('#staffing-summary').textContent !== '');
    await checkA11y(p2, 'the reports page');

    // A clerk is told this is not for them.
    const c3 = await browser.newContext({ bypassCSP: true });
    const p3 = await c3.newPage();
    await p3.goto(server.url('/panel/manager/reports'));
    await p3.waitForSelector('#signin-user');
    await signIn(p3, 'ewa', 'ewa-browser-password');
    await p3.waitForSelector('#view-denied:not([hidden])');
    await checkA11y(p3, 'the reports page refusing a clerk');
  } finally {
    await browser.close();
    await server.stop();
  }
});
