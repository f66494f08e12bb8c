// The harness itself: the real binary starts, Debian's Chromium loads a page from it, the
// API helpers sign in and pair a device, and axe-core runs and reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Api, checkA11y, deviceToken, launchBrowser, startServer, user } from './harness.mjs';

test('the harness starts kolejka, drives Chromium and checks accessibility', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const resp = await page.goto(server.url('/healthz'));
    assert.equal(resp.status(), 200);
    const health = JSON.parse(await page.textContent('body'));
    assert.equal(health.status, 'ok');

    const clerk = await user(server, 'anna', 'clerk');
    const me = await clerk.ok('GET', '/api/v1/auth/me');
    assert.equal(me.user, 'anna');
    const kiosk = new Api(server.base, { token: await deviceToken(server, 'kiosk') });
    const t = await kiosk.ok('POST', '/api/v1/tickets', { case_type: 'dowody', lang: 'uk' });
    assert.equal(t.ticket.number, 'A001');

    // axe reports a real violation on a page made to have one, and passes a clean one.
    await page.setContent('<!doctype html><html lang="pl"><title>t</title><main><img src="x.png"></main></html>');
    await assert.rejects(checkA11y(page, 'a broken page'), /image-alt/);
    await page.setContent('<!doctype html><html lang="pl"><title>t</title><main><h1>Kolejka</h1></main></html>');
    assert.deepEqual(await checkA11y(page, 'a clean page'), []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
