// The manager console (/panel/manager): the live overview of counters and queues (the
// `manager` websocket channel, docs/PROTOCOL.md), and the manager's changes over HTTP: which
// case types a counter serves, issuing and daily caps, hall messages, devices, users (clerks' for
// managers, everyone's for admins),
// cancelling a ticket, and the audit log. A clerk gets "no access" (the API answers 403 too).

import { Live } from '/display/lib/live.js';
import {
  $, COUNTER_STATUS, NOT_ISSUING, NetworkError, ROLE, TICKET_STATE, announce, api, fill, fmtClock,
  fmtMin, fmtTime, h, pl, serverNow, showSignIn, signOut, whoAmI,
} from '/panel/js/common.js';

const S = {
  me: null,
  office: null,
  counters: [],
  queues: [],
  tickets: new Map(),
  day: null,
  live: null,
  messages: [],
  printers: null,
  queuesAt: 0,
};

const TABS = ['przeglad', 'stanowiska', 'sprawy', 'komunikaty', 'urzadzenia', 'uzytkownicy', 'bilety', 'dziennik', 'koniec'];
const VIEWS = ['loading', 'signin', 'denied', 'console'];

function show(view) {
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  $('#signout').hidden = !(view === 'console' || view === 'denied');
  if (view !== 'console') $('#conn').hidden = true;
}

// ------------------------------------------------------------------ start and access

async function boot() {
  show('loading');
  api.onSignedOut = () => signInView('Sesja wygasła albo zostałeś wylogowany. Zaloguj się ponownie.');
  let me;
  try {
    me = await whoAmI();
  } catch {
    fill(
      $('#view-loading'),
      h('p', { class: 'notice error', role: 'alert', text: 'Brak połączenia z serwerem.' }),
      h('button', { type: 'button', onclick: boot, text: 'Spróbuj ponownie' }),
    );
    return;
  }
  if (!me) signInView();
  else signedIn(me);
}

function signInView(message) {
  if (S.live) S.live.stop();
  S.live = null;
  S.me = null;
  $('#who').textContent = '';
  show('signin');
  showSignIn($('#view-signin'), { onSignedIn: signedIn, message, title: 'Logowanie' });
}

function denied(me) {
  if (S.live) S.live.stop();
  S.live = null;
  $('#denied-text').textContent = `Ta strona jest dla kierowników i administratorów (HTTP 403: brak uprawnień). ` +
    `Twoje konto (${me.user}) ma rolę: ${ROLE[me.role] || me.role}.`;
  show('denied');
  $('#denied-h').setAttribute('tabindex', '-1');
  $('#denied-h').focus();
}

async function signedIn(me) {
  S.me = me;
  $('#who').textContent = `${me.user} (${ROLE[me.role] || me.role})`;
  if (me.role === 'clerk') {
    denied(me);
    return;
  }
  try {
    S.office = await api.ok('GET', '/api/v1/office');
  } catch (e) {
    if (e.status === 403) {
      denied(me);
      return;
    }
    show('loading');
    fill($('#view-loading'), h('p', { class: 'notice error', role: 'alert', text: e instanceof NetworkError ? 'Brak połączenia z serwerem.' : e.message }));
    return;
  }
  show('console');
  // Admins manage every account; managers manage clerks' accounts.
  $('#users-denied').hidden = me.role === 'admin';
  $('#users-admin').hidden = false;
  if (me.role !== 'admin') {
    for (const opt of [...$('#user-role').options]) if (opt.value !== 'clerk') opt.remove();
  }
  await detectPrinters();
  startLive();
  showTab(false);
}

async function detectPrinters() {
  try {
    const doc = await api.ok('GET', '/api/openapi.json');
    S.printersRoute = Boolean(doc && doc.paths && doc.paths['/api/v1/printers'] && doc.paths['/api/v1/printers'].get);
  } catch {
    S.printersRoute = false;
  }
}

function startLive() {
  if (S.live) S.live.stop();
  S.live = new Live({
    channel: 'manager',
    onSnapshot: (m) => {
      S.day = m.day;
      S.counters = m.counters;
      S.queues = m.queues;
      S.queuesAt = serverNow();
      S.tickets = new Map(m.tickets.map((t) => [t.number, t]));
      renderAll();
      loadMessages();
    },
    onMessage: (m) => {
      if (m.type === 'counter') {
        const i = S.counters.findIndex((c) => c.id === m.counter.id);
        if (i >= 0) S.counters[i] = m.counter;
        else S.counters.push(m.counter);
        renderCounters();
      } else if (m.type === 'queues') {
        S.queues = m.queues;
        S.queuesAt = serverNow();
        renderQueues();
        renderCaseTypes();
      } else if (m.type === 'ticket') {
        S.tickets.set(m.ticket.number, m.ticket);
        renderTicketsSoon();
      } else if (m.type === 'messages') {
        loadMessages();
      }
    },
    onStatus: (online) => {
      const conn = $('#conn');
      conn.hidden = false;
      conn.textContent = online ? 'Połączono' : 'Brak połączenia';
      conn.classList.toggle('offline', !online);
      $('#offline').hidden = online;
      announce(online ? 'Połączenie z serwerem przywrócone.' : 'Brak połączenia z serwerem.');
    },
    onRefused: (code) => {
      if (code === 4401) signInView('Sesja wygasła. Zaloguj się ponownie.');
      else if (code === 4403 && S.me) denied(S.me);
    },
  }).start();
}

// ------------------------------------------------------------------ tabs

function showTab(focus = true) {
  const id = (location.hash || '#przeglad').slice(1);
  const tab = TABS.includes(id) ? id : 'przeglad';
  for (const t of TABS) $(`#${t}`).hidden = t !== tab;
  for (const a of document.querySelectorAll('.tabs a')) {
    if (a.getAttribute('href') === `#${tab}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clearNotices();
  if (tab === 'urzadzenia') loadDevices();
  if (tab === 'uzytkownicy' && S.me) loadUsers();
  if (tab === 'komunikaty') loadMessages();
  if (tab === 'stanowiska') fillServes();
  if (tab === 'bilety') renderTickets();
  if (tab === 'dziennik' && !$('#audit-rows').hasChildNodes()) loadAudit();
  if (focus) $(`#${tab}-h`).focus();
}

// ------------------------------------------------------------------ notices

function done(text) {
  const r = $('#result');
  r.textContent = text;
  r.hidden = false;
  $('#failure').hidden = true;
}

function failed(e, what) {
  const f = $('#failure');
  const text = e instanceof NetworkError
    ? `${what}: brak połączenia z serwerem — nie wiadomo, czy zmiana dotarła. Sprawdź stan i spróbuj ponownie.`
    : `${what}: ${e.message}`;
  f.textContent = text;
  f.hidden = false;
  $('#result').hidden = true;
}

function clearNotices() {
  $('#result').hidden = true;
  $('#failure').hidden = true;
}

/** Runs a change; shows what happened. Resolves with the answer, or null on failure. */
async function change(what, method, path, body, okText) {
  try {
    const data = await api.ok(method, path, body);
    if (okText) done(typeof okText === 'function' ? okText(data) : okText);
    return data ?? {};
  } catch (e) {
    if (e.status === 401) return null;
    failed(e, what);
    return null;
  }
}

// ------------------------------------------------------------------ overview

function caseTypeName(code) {
  const ct = S.office.case_types.find((c) => c.code === code);
  return ct ? pl(ct.name) : code;
}

function renderAll() {
  $('#overview-day').textContent = S.day ? `Dzień: ${S.day}. Dane na żywo.` : '';
  renderCounters();
  renderQueues();
  renderCaseTypes();
  renderTickets();
  if (!$('#stanowiska').hidden && !$('#serves-rows').hasChildNodes()) fillServes();
}

function statusBadge(status) {
  const kind = { open: 'ok', paused: 'warn', closed: 'neutral' }[status] || 'neutral';
  return h('span', { class: `badge ${kind}`, text: COUNTER_STATUS[status] || status });
}

function renderCounters() {
  const rows = S.counters.map((c) => {
    const t = c.current;
    const since = t ? (t.state === 'serving' && t.started_at ? t.started_at : t.called_at) : null;
    const from = since ? Date.parse(since) : null;
    return h(
      'tr',
      {},
      h('th', { scope: 'row', text: pl(c.name) }),
      h('td', {}, statusBadge(c.status), c.pause_reason ? ` ${c.pause_reason}` : '', c.since ? h('span', { class: 'hint', text: ` od ${fmtTime(c.since)}` }) : ''),
      h('td', { text: c.operator || '—' }),
      h('td', { text: t ? `${t.number} (${TICKET_STATE[t.state] || t.state})` : '—' }),
      from ? h('td', { class: 'num', 'data-from': String(from) }) : h('td', { class: 'num', text: '—' }),
      h('td', { text: c.serves.map((s) => `${caseTypeName(s.case_type)} (${s.weight})`).join(', ') }),
      h(
        'td',
        {},
        c.status !== 'closed' && !t
          ? h('button', {
            type: 'button',
            class: 'secondary',
            'aria-label': `Zamknij: ${pl(c.name)}`,
            onclick: () => closeCounter(c),
            text: 'Zamknij',
          })
          : '',
      ),
    );
  });
  fill($('#overview-counters'), rows);
  tick();
}

async function closeCounter(c) {
  if (!window.confirm(`Zamknąć ${pl(c.name)}${c.operator ? ` (urzędnik: ${c.operator})` : ''}?`)) return;
  await change(`Zamknięcie: ${pl(c.name)}`, 'POST', `/api/v1/counters/${c.id}/close`, undefined, `Zamknięto: ${pl(c.name)}`);
}

/**
 * Where a case type stands against its service standard (the longest acceptable wait):
 * broken when someone has waited longer; at risk when a ticket taken now would (the estimate),
 * or when the longest wait is past three quarters of it.
 */
function standing(q) {
  if (q.waiting === 0) return { kind: 'ok', text: 'w normie (brak kolejki)' };
  if (q.estimated_wait_min === null) return { kind: 'bad', text: 'brak otwartego stanowiska' };
  const longestMin = (q.longest_wait_s || 0) / 60;
  if (longestMin >= q.target_wait_min) return { kind: 'bad', text: 'norma przekroczona' };
  if (q.estimated_wait_min > q.target_wait_min) return { kind: 'warn', text: 'zagrożona: szacunek ponad normę' };
  if (longestMin >= 0.75 * q.target_wait_min) return { kind: 'warn', text: 'blisko normy' };
  return { kind: 'ok', text: 'w normie' };
}

function renderQueues() {
  const rows = S.queues.map((q) => {
    const st = standing(q);
    const longest = q.waiting > 0 && q.longest_wait_s !== null
      ? h('td', { class: 'num', 'data-from': String(S.queuesAt - q.longest_wait_s * 1000) })
      : h('td', { class: 'num', text: '—' });
    return h(
      'tr',
      {},
      h('th', { scope: 'row', text: `${q.prefix} · ${pl(q.name)}` }),
      h('td', { class: 'num', text: String(q.waiting) }),
      longest,
      h('td', { class: 'num', text: fmtMin(q.estimated_wait_min) }),
      h('td', { class: 'num', text: `${q.target_wait_min} min` }),
      h('td', {}, h('span', { class: `badge ${st.kind}`, text: st.text })),
      h('td', { class: 'num', text: q.counters_open.toFixed(2).replace('.', ',') }),
      h('td', { text: q.issuing ? 'tak' : `nie — ${NOT_ISSUING[q.not_issuing_reason] || q.not_issuing_reason}` }),
    );
  });
  fill($('#overview-queues'), rows);
  tick();
}

function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-from]')) {
    el.textContent = fmtClock((now - Number(el.dataset.from)) / 1000);
  }
}

// ------------------------------------------------------------------ counters: case types and weights

function fillServes() {
  const select = $('#serves-counter');
  const chosen = Number(select.value) || (S.counters[0] && S.counters[0].id);
  fill(select, S.counters.map((c) => h('option', { value: String(c.id), selected: c.id === chosen, text: pl(c.name) })));
  const counter = S.counters.find((c) => c.id === chosen);
  if (!counter) return;
  select.value = String(chosen);
  $('#serves-caption').textContent = `Sprawy: ${pl(counter.name)}`;
  const weights = new Map(counter.serves.map((s) => [s.case_type, s.weight]));
  fill(
    $('#serves-rows'),
    S.office.case_types.map((ct) => {
      const name = pl(ct.name);
      const on = weights.has(ct.code);
      const weight = h('input', {
        type: 'number',
        min: '1',
        max: '100',
        step: '1',
        id: `w-${ct.code}`,
        value: String(weights.get(ct.code) || 5),
        'aria-label': `${name}: waga`,
        'data-code': ct.code,
      });
      const box = h('input', {
        type: 'checkbox',
        id: `s-${ct.code}`,
        checked: on,
        'aria-label': `${name}: obsługuje`,
        'data-code': ct.code,
      });
      return h('tr', {}, h('th', { scope: 'row', text: `${ct.prefix} · ${name}` }), h('td', {}, box), h('td', {}, weight));
    }),
  );
}

async function saveServes(ev) {
  ev.preventDefault();
  const id = Number($('#serves-counter').value);
  const counter = S.counters.find((c) => c.id === id);
  const serves = [];
  for (const box of document.querySelectorAll('#serves-rows input[type="checkbox"]')) {
    if (!box.checked) continue;
    const code = box.dataset.code;
    const weight = Number($(`#w-${CSS.escape(code)}`).value);
    if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
      failed(new Error(`waga sprawy „${caseTypeName(code)}” musi być liczbą całkowitą od 1 do 100`), 'Nie zapisano');
      $(`#w-${CSS.escape(code)}`).focus();
      return;
    }
    serves.push({ case_type: code, weight });
  }
  if (serves.length === 0) {
    failed(new Error('zaznacz co najmniej jedną sprawę'), 'Nie zapisano');
    return;
  }
  const name = counter ? pl(counter.name) : `Stanowisko ${id}`;
  const saved = await change(`Sprawy: ${name}`, 'PUT', `/api/v1/counters/${id}/serves`, { serves }, `Zapisano: ${name} obsługuje od następnego wezwania: ${serves.map((s) => `${caseTypeName(s.case_type)} (${s.weight})`).join(', ')}.`);
  if (saved && saved.id) {
    const i = S.counters.findIndex((c) => c.id === saved.id);
    if (i >= 0) S.counters[i] = saved;
    renderCounters();
  }
}

// ------------------------------------------------------------------ case types: issuing and caps

function renderCaseTypes() {
  const body = $('#case-types-rows');
  // Keep a cap being typed: re-render only rows whose input is not being edited.
  const editing = document.activeElement && body.contains(document.activeElement) ? document.activeElement.id : null;
  const typed = editing ? document.activeElement.value : null;
  const rows = S.queues.map((q) => {
    const name = pl(q.name);
    const cap = h('input', {
      type: 'number',
      min: '1',
      max: '100000',
      class: 'cap-input',
      id: `cap-${q.code}`,
      value: q.daily_cap === null ? '' : String(q.daily_cap),
      'aria-label': `Dzienny limit: ${name}`,
    });
    const stopped = q.not_issuing_reason === 'stopped_by_manager';
    return h(
      'tr',
      {},
      h('th', { scope: 'row', text: `${q.prefix} · ${name}` }),
      h('td', { text: q.issuing ? 'wydaje' : `nie wydaje — ${NOT_ISSUING[q.not_issuing_reason] || q.not_issuing_reason}` }),
      h('td', { class: 'num', text: String(q.issued_today) }),
      h('td', {}, cap, ' ', h('button', { type: 'button', class: 'secondary', onclick: () => setCap(q), text: 'Ustaw', 'aria-label': `Ustaw limit: ${name}` })),
      h(
        'td',
        {},
        h('button', {
          type: 'button',
          class: stopped ? '' : 'danger',
          onclick: () => setIssuing(q, stopped),
          text: stopped ? 'Wznów wydawanie' : 'Wstrzymaj wydawanie',
          'aria-label': `${stopped ? 'Wznów wydawanie' : 'Wstrzymaj wydawanie'}: ${name}`,
        }),
      ),
    );
  });
  fill(body, rows);
  if (editing) {
    const el = document.getElementById(editing);
    if (el) {
      if (el.tagName === 'INPUT') el.value = typed;
      el.focus();
    }
  }
}

async function setIssuing(q, open) {
  const name = pl(q.name);
  const after = await change(`Wydawanie: ${name}`, 'PUT', `/api/v1/case-types/${encodeURIComponent(q.code)}/issuing`, { open }, open ? `Wznowiono wydawanie: ${name}` : `Wstrzymano wydawanie: ${name}`);
  if (after && after.code) updateQueue(after);
}

async function setCap(q) {
  const name = pl(q.name);
  const raw = $(`#cap-${CSS.escape(q.code)}`).value.trim();
  let cap = null;
  if (raw !== '') {
    cap = Number(raw);
    if (!Number.isInteger(cap) || cap < 1 || cap > 100000) {
      failed(new Error('limit to liczba całkowita od 1 do 100000 albo puste pole (limit z konfiguracji)'), `Limit: ${name}`);
      return;
    }
  }
  const after = await change(`Limit: ${name}`, 'PUT', `/api/v1/case-types/${encodeURIComponent(q.code)}/daily-cap`, { cap }, cap === null ? `Zapisano limit: ${name} — jak w konfiguracji` : `Zapisano limit: ${name} — ${cap} biletów dziennie`);
  if (after && after.code) updateQueue(after);
}

function updateQueue(q) {
  const i = S.queues.findIndex((x) => x.code === q.code);
  if (i >= 0) S.queues[i] = q;
  renderQueues();
  renderCaseTypes();
}

// ------------------------------------------------------------------ hall messages

const MSG_STATUS = { active: 'wyświetlany', scheduled: 'zaplanowany', ended: 'zakończony', withdrawn: 'wycofany' };

async function loadMessages() {
  try {
    S.messages = await api.ok('GET', '/api/v1/messages');
  } catch {
    return;
  }
  const list = $('#messages-list');
  const live = S.messages.filter((m) => m.status === 'active' || m.status === 'scheduled');
  fill(
    list,
    live.length === 0
      ? h('li', { text: 'Brak komunikatów.' })
      : live.map((m) => h(
        'li',
        {},
        h(
          'div',
          {},
          h('p', { text: m.text.pl }),
          h('p', {
            class: 'hint',
            text: `${MSG_STATUS[m.status] || m.status}` +
              `${m.starts_at ? `, od ${fmtTime(m.starts_at)}` : ''}${m.ends_at ? `, do ${fmtTime(m.ends_at)}` : ''}` +
              `${m.created_by ? ` · ${m.created_by.replace(/^user:/, '')}` : ''}`,
          }),
        ),
        h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Wycofaj: ${m.text.pl.slice(0, 40)}`,
          onclick: () => withdraw(m),
          text: 'Wycofaj',
        }),
      )),
  );
}

async function postMessage(ev) {
  ev.preventDefault();
  const pl_ = $('#msg-pl').value.trim();
  if (!pl_) {
    failed(new Error('wpisz treść po polsku'), 'Komunikat');
    $('#msg-pl').focus();
    return;
  }
  const body = { texts: { pl: pl_ } };
  const uk = $('#msg-uk').value.trim();
  const en = $('#msg-en').value.trim();
  if (uk) body.texts.uk = uk;
  if (en) body.texts.en = en;
  const start = $('#msg-start').value;
  const end = $('#msg-end').value;
  if (start) body.starts_at = new Date(start).toISOString();
  if (end) body.ends_at = new Date(end).toISOString();
  const posted = await change('Komunikat', 'POST', '/api/v1/messages', body, (m) => `Opublikowano komunikat (${MSG_STATUS[m.status] || m.status}).`);
  if (posted) {
    for (const id of ['#msg-pl', '#msg-uk', '#msg-en', '#msg-start', '#msg-end']) $(id).value = '';
    loadMessages();
  }
}

async function withdraw(m) {
  if (!window.confirm(`Wycofać komunikat „${m.text.pl.slice(0, 80)}”?`)) return;
  const ok = await change('Wycofanie komunikatu', 'DELETE', `/api/v1/messages/${m.id}`, undefined, 'Wycofano komunikat.');
  if (ok) loadMessages();
}

// ------------------------------------------------------------------ devices

const KIND = { kiosk: 'kiosk', screen: 'ekran w sali', counter_display: 'wyświetlacz stanowiska' };
const DEVICE_STATUS = { pending: 'czeka na zatwierdzenie', approved: 'zatwierdzone', revoked: 'unieważnione' };

async function loadDevices() {
  let devices;
  try {
    devices = await api.ok('GET', '/api/v1/devices');
  } catch (e) {
    if (e.status !== 401) failed(e, 'Lista urządzeń');
    return;
  }
  let printers = null;
  if (S.printersRoute) {
    try {
      printers = await api.ok('GET', '/api/v1/printers');
    } catch {
      printers = null;
    }
  }
  fill(
    $('#devices-rows'),
    devices.map((d) => {
      const input = h('input', { id: `dev-name-${d.id}`, value: d.name, maxlength: '64', 'aria-label': `Nowa nazwa: ${d.name}` });
      return h(
        'tr',
        {},
        h('th', { scope: 'row', text: d.name }),
        h('td', { text: KIND[d.kind] || d.kind }),
        h('td', { text: DEVICE_STATUS[d.status] || d.status }),
        h('td', { text: d.last_seen ? fmtTime(d.last_seen) : 'nigdy' }),
        h('td', { text: printerState(printers, d) }),
        h(
          'td',
          {},
          d.status === 'revoked'
            ? ''
            : h(
              'div',
              { class: 'row' },
              input,
              h('button', { type: 'button', class: 'secondary', 'aria-label': `Zmień nazwę: ${d.name}`, onclick: () => renameDevice(d, input.value), text: 'Zmień nazwę' }),
              h('button', { type: 'button', class: 'danger', 'aria-label': `Unieważnij: ${d.name}`, onclick: () => revokeDevice(d), text: 'Unieważnij' }),
            ),
        ),
      );
    }),
  );
  renderPrinters(printers);
}

const PRINTER_STATE = {
  unknown: 'stan nieznany (jeszcze nic nie drukowała)',
  ok: 'sprawna',
  paper_near_end: 'kończy się papier',
  paper_out: 'brak papieru',
  cover_open: 'otwarta pokrywa',
  offline: 'niedostępna',
  error: 'błąd',
};

function printerText(p) {
  const state = PRINTER_STATE[p.state] || p.state;
  return `${p.name}: ${state}${p.reason ? ` (${p.reason})` : ''}${p.queued ? `, w kolejce: ${p.queued}` : ''}`;
}

/** A kiosk's printer and its state: the printer naming the kiosk, else the default one. */
function printerState(printers, d) {
  if (d.kind !== 'kiosk') return '—';
  if (!S.printersRoute || !Array.isArray(printers)) return 'brak danych';
  const named = printers.filter((p) => Array.isArray(p.kiosks) && p.kiosks.includes(d.name));
  const mine = named.length ? named : printers.filter((p) => p.default);
  if (mine.length === 0) return 'brak drukarki';
  return mine.map(printerText).join('; ');
}

function renderPrinters(printers) {
  const box = $('#printers');
  if (!S.printersRoute) {
    fill(box, h('p', { class: 'hint', text: 'Stan drukarek: ten serwer go nie podaje.' }));
    return;
  }
  if (!Array.isArray(printers) || printers.length === 0) {
    fill(box, h('p', { class: 'hint', text: 'Brak skonfigurowanych drukarek.' }));
    return;
  }
  fill(
    box,
    h('h3', { text: 'Drukarki biletów' }),
    h('ul', {}, printers.map((p) => {
      const bad = !['ok', 'unknown'].includes(p.state);
      return h('li', {}, h('span', { class: `badge ${bad ? 'bad' : p.state === 'ok' ? 'ok' : 'neutral'}`, text: PRINTER_STATE[p.state] || p.state }), ` ${printerText(p)}${p.default ? ' · domyślna' : ''}${p.last_ok_at ? ` · ostatni wydruk ${fmtTime(p.last_ok_at)}` : ''}`);
    })),
  );
}

async function approveDevice(ev) {
  ev.preventDefault();
  const code = $('#approve-code').value.trim();
  const name = $('#approve-name').value.trim();
  if (!/^\d{6}$/.test(code) || !name) {
    failed(new Error('podaj 6-cyfrowy kod z ekranu urządzenia i jego nazwę'), 'Zatwierdzenie urządzenia');
    return;
  }
  const d = await change('Zatwierdzenie urządzenia', 'POST', '/api/v1/devices/approve', { pairing_code: code, name }, (x) => `Zatwierdzono urządzenie: ${x.name}`);
  if (d) {
    $('#approve-code').value = '';
    $('#approve-name').value = '';
    loadDevices();
  }
}

async function renameDevice(d, name) {
  name = name.trim();
  if (!name) return;
  const ok = await change('Zmiana nazwy urządzenia', 'PATCH', `/api/v1/devices/${d.id}`, { name }, `Zmieniono nazwę: ${d.name} → ${name}`);
  if (ok) loadDevices();
}

async function revokeDevice(d) {
  if (!window.confirm(`Unieważnić urządzenie „${d.name}”? Przestanie działać od razu i trzeba będzie sparować je ponownie.`)) return;
  const ok = await change('Unieważnienie urządzenia', 'POST', `/api/v1/devices/${d.id}/revoke`, undefined, `Unieważniono: ${d.name}`);
  if (ok) loadDevices();
}

// ------------------------------------------------------------------ users (managers: clerks)

async function loadUsers() {
  let users;
  try {
    users = await api.ok('GET', '/api/v1/users');
  } catch (e) {
    if (e.status === 403) {
      $('#users-admin').hidden = true;
      $('#users-denied').hidden = false;
    } else if (e.status !== 401) failed(e, 'Lista użytkowników');
    return;
  }
  fill(
    $('#users-rows'),
    users.map((u) => {
      const pass = h('input', { type: 'password', autocomplete: 'new-password', minlength: '10', 'aria-label': `Nowe hasło: ${u.name}` });
      // A manager sees managers' and admins' accounts but changes only clerks'.
      if (S.me.role !== 'admin' && u.role !== 'clerk') {
        return h(
          'tr',
          {},
          h('th', { scope: 'row', text: u.name }),
          h('td', { text: ROLE[u.role] || u.role }),
          h('td', { text: u.disabled ? 'zablokowany' : 'aktywny' }),
          h('td', { text: u.last_login_at ? fmtTime(u.last_login_at) : 'nigdy' }),
          h('td', { colspan: '2', class: 'hint', text: 'zmienia administrator' }),
        );
      }
      return h(
        'tr',
        {},
        h('th', { scope: 'row', text: u.name }),
        h('td', { text: ROLE[u.role] || u.role }),
        h('td', { text: u.disabled ? 'zablokowany' : 'aktywny' }),
        h('td', { text: u.last_login_at ? fmtTime(u.last_login_at) : 'nigdy' }),
        h(
          'td',
          {},
          h('div', { class: 'row' }, pass, h('button', { type: 'button', class: 'secondary', 'aria-label': `Ustaw hasło: ${u.name}`, onclick: () => resetPassword(u, pass), text: 'Ustaw' })),
        ),
        h(
          'td',
          {},
          u.name === S.me.user
            ? h('span', { class: 'hint', text: 'to Ty' })
            : h('button', {
              type: 'button',
              class: u.disabled ? '' : 'danger',
              'aria-label': `${u.disabled ? 'Odblokuj' : 'Zablokuj'}: ${u.name}`,
              onclick: () => setDisabled(u, !u.disabled),
              text: u.disabled ? 'Odblokuj' : 'Zablokuj',
            }),
        ),
      );
    }),
  );
}

async function createUser(ev) {
  ev.preventDefault();
  const name = $('#user-name').value.trim();
  const role = $('#user-role').value;
  const password = $('#user-pass').value;
  if (!name || password.length < 10) {
    failed(new Error('podaj nazwę i hasło (co najmniej 10 znaków)'), 'Nowy użytkownik');
    return;
  }
  const u = await change('Nowy użytkownik', 'POST', '/api/v1/users', { name, role, password }, (x) => `Utworzono użytkownika ${x.name} (${ROLE[x.role] || x.role}).`);
  if (u) {
    $('#user-name').value = '';
    $('#user-pass').value = '';
    loadUsers();
  }
}

async function resetPassword(u, input) {
  const password = input.value;
  if (password.length < 10) {
    failed(new Error('hasło musi mieć co najmniej 10 znaków'), `Hasło: ${u.name}`);
    input.focus();
    return;
  }
  const ok = await change(`Hasło: ${u.name}`, 'PUT', `/api/v1/users/${encodeURIComponent(u.name)}/password`, { password }, `Ustawiono nowe hasło: ${u.name} (jego sesje zostały zakończone).`);
  if (ok) input.value = '';
}

async function setDisabled(u, disabled) {
  if (disabled && !window.confirm(`Zablokować konto ${u.name}? Jego sesje zostaną zakończone.`)) return;
  const ok = await change(`Konto: ${u.name}`, 'PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { disabled }, `${disabled ? 'Zablokowano' : 'Odblokowano'}: ${u.name}`);
  if (ok) loadUsers();
}

// ------------------------------------------------------------------ tickets

let ticketsTimer = null;
function renderTicketsSoon() {
  clearTimeout(ticketsTimer);
  ticketsTimer = setTimeout(renderTickets, 300);
}

function renderTickets() {
  const all = [...S.tickets.values()].sort((a, b) => b.id - a.id);
  const open = all.filter((t) => !['done', 'cancelled'].includes(t.state));
  fill($('#open-tickets'), open.map((t) => h('option', { value: t.number })));
  if ($('#bilety').hidden) return;
  const shown = all.slice(0, 200);
  $('#tickets-caption').textContent = `Bilety dnia: ${all.length}${all.length > shown.length ? ` (pokazano najnowsze ${shown.length})` : ''}`;
  fill(
    $('#tickets-rows'),
    shown.map((t) => h(
      'tr',
      {},
      h('th', { scope: 'row', text: t.number }),
      h('td', { text: caseTypeName(t.case_type) }),
      h('td', { text: TICKET_STATE[t.state] || t.state }),
      h('td', { text: fmtTime(t.issued_at) }),
      h('td', { text: t.counter ? String(t.counter) : '—' }),
      h('td', { text: t.priority ? 'tak' : 'nie' }),
    )),
  );
}

async function cancelTicket(ev) {
  ev.preventDefault();
  const number = $('#cancel-number').value.trim().toUpperCase();
  const reason = $('#cancel-reason').value.trim();
  if (!/^[A-Z]{1,3}\d{1,5}$/.test(number) || !reason) {
    failed(new Error('podaj numer biletu (np. A012) i powód'), 'Anulowanie biletu');
    return;
  }
  if (!window.confirm(`Anulować bilet ${number}? Powód: ${reason}`)) return;
  const t = await change(`Anulowanie biletu ${number}`, 'POST', `/api/v1/tickets/${encodeURIComponent(number)}/cancel`, { reason }, `Anulowano bilet ${number}.`);
  if (t && t.number) {
    S.tickets.set(t.number, t);
    $('#cancel-number').value = '';
    $('#cancel-reason').value = '';
    renderTickets();
  }
}

async function closeDay() {
  if (!window.confirm('Zamknąć dzień teraz? Wydawanie biletów zostanie wstrzymane do jutra.')) return;
  await change('Zamknięcie dnia', 'POST', '/api/v1/day/close', {}, (d) =>
    `Dzień zamknięty: anulowano biletów ${d.cancelled}, zamknięto stanowisk ${d.counters_closed}, wstrzymano wydawanie dla ${d.issuing_stopped} spraw.`);
}

// ------------------------------------------------------------------ audit log

function short(v) {
  if (v === null || v === undefined) return '—';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

function plainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Before and after as shown: for two objects, only the fields that changed. */
function changed(before, after) {
  if (!plainObject(before) || !plainObject(after)) return [short(before), short(after)];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (keys.length === 0) return [short(before), short(after)];
  const pick = (o) => keys.map((k) => `${k}: ${o[k] === undefined ? '—' : JSON.stringify(o[k])}`).join(', ');
  return [short(pick(before)), short(pick(after))];
}

function fmtWhen(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toLocaleDateString('pl-PL')} ${d.toLocaleTimeString('pl-PL')}`;
}

async function loadAudit(ev) {
  if (ev) ev.preventDefault();
  const q = new URLSearchParams();
  const from = $('#audit-from').value;
  const to = $('#audit-to').value;
  const actor = $('#audit-actor').value.trim();
  const action = $('#audit-action').value.trim();
  const source = $('#audit-source').value;
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  if (actor) q.set('actor', actor);
  if (action) q.set('action', action);
  if (source && source !== 'all') q.set('source', source);
  q.set('limit', '300');
  let view;
  try {
    view = await api.ok('GET', `/api/v1/audit?${q}`);
  } catch (e) {
    if (e.status !== 401) failed(e, 'Dziennik zmian');
    return;
  }
  $('#audit-summary').textContent = `Wpisów: ${view.entries.length}${view.more ? ' (są starsze — zawęź filtry, aby je zobaczyć)' : ''}.`;
  fill(
    $('#audit-rows'),
    view.entries.length === 0
      ? h('tr', {}, h('td', { colspan: '6', text: 'Brak wpisów.' }))
      : view.entries.map((e) => {
        const [before, after] = changed(e.before, e.after);
        return h(
          'tr',
          {},
          h('td', { text: fmtWhen(e.at) }),
          h('td', { text: e.actor.replace(/^user:/, '') }),
          h('td', {}, h('code', { text: e.action }), e.source === 'event' ? h('span', { class: 'hint', text: ' (zdarzenie)' }) : ''),
          h('td', { text: e.target || '—' }),
          h('td', { class: 'json' }, h('code', { text: before })),
          h('td', { class: 'json' }, h('code', { text: after })),
        );
      }),
  );
}

// ------------------------------------------------------------------ wiring

function wire() {
  window.addEventListener('hashchange', () => showTab(true));
  $('#serves-counter').addEventListener('change', fillServes);
  $('#form-serves').addEventListener('submit', saveServes);
  $('#form-message').addEventListener('submit', postMessage);
  $('#form-approve').addEventListener('submit', approveDevice);
  $('#form-user').addEventListener('submit', createUser);
  $('#form-cancel').addEventListener('submit', cancelTicket);
  $('#form-audit').addEventListener('submit', loadAudit);
  $('#btn-close-day').addEventListener('click', closeDay);
  $('#signout').addEventListener('click', async () => {
    if (S.live) S.live.stop();
    S.live = null;
    await signOut();
    signInView('Wylogowano.');
  });
  setInterval(tick, 1000);
}

wire();
boot();
