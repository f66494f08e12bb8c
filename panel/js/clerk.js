// The clerk panel (/panel): sign in, open a counter, and work the queue with buttons or
// one-key shortcuts. The counter's state comes live over the `clerk` websocket channel
// (docs/PROTOCOL.md) and is replaced by the server's snapshot after every reconnect; actions go
// over HTTP.
//
// No action is dropped or repeated silently: each button press gets a fresh Idempotency-Key;
// if the request gets no answer (network error, time-out) the panel says so and offers
// "Ponów", which sends the same press again with the same key, so the server acts on it once
// even if the first attempt did arrive. A refusal from the server is shown with its reason.

import { Live } from '/display/lib/live.js';
import {
  $, COUNTER_STATUS, NetworkError, TICKET_STATE, announce, api, fill, fmtClock, fmtMin, fmtTime,
  h, newKey, pl, refusalText, secondsSince, serverNow, showSignIn, signOut, whoAmI,
} from '/panel/js/common.js';

const S = {
  me: null,
  office: null,
  counterId: null,
  counter: null,
  queues: [],
  tickets: [],
  live: null,
  /** The action on its way to the server, if any (one at a time). */
  pending: null,
  /** The reprint route, if this server has it (`{ body: bool }`), else null. */
  reprint: null,
  view: 'loading',
};

const VIEWS = ['loading', 'signin', 'choose', 'counter'];

function show(view) {
  S.view = view;
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  const signedIn = view === 'choose' || view === 'counter';
  $('#signout').hidden = !signedIn;
  if (view !== 'counter') {
    $('#conn').hidden = true;
    $('#offline').hidden = true;
  }
}

function setTitle(text) {
  $('#title').textContent = text;
  document.title = `${text} – kolejka`;
}

// ------------------------------------------------------------------ start and signing in

async function boot() {
  show('loading');
  api.onSignedOut = () => sessionEnded();
  let me;
  try {
    me = await whoAmI();
  } catch (e) {
    fill(
      $('#view-loading'),
      h('p', { class: 'notice error', role: 'alert', text: 'Brak połączenia z serwerem.' }),
      h('button', { type: 'button', onclick: boot, text: 'Spróbuj ponownie' }),
    );
    return;
  }
  if (!me) {
    signInView();
    return;
  }
  await signedIn(me);
}

function signInView(message) {
  stopLive();
  S.me = null;
  $('#who').textContent = '';
  setTitle('Panel urzędnika');
  show('signin');
  showSignIn($('#view-signin'), { onSignedIn: (me) => signedIn(me), message });
}

function sessionEnded() {
  if (S.view === 'signin') return;
  signInView('Sesja wygasła albo zostałeś wylogowany. Zaloguj się ponownie.');
}

async function signedIn(me) {
  S.me = me;
  $('#who').textContent = me.user;
  try {
    if (!S.office) S.office = await api.ok('GET', '/api/v1/office');
    await detectReprint();
  } catch (e) {
    if (S.view === 'signin') return;
    failureNotice(e instanceof NetworkError ? 'Brak połączenia z serwerem.' : e.message);
  }
  if (me.counter) {
    const counters = await loadCounters();
    const mine = counters && counters.find((c) => c.id === me.counter);
    if (mine && mine.status !== 'closed' && mine.operator === me.user) {
      enterCounter(me.counter);
      return;
    }
  }
  chooseView();
}

/** Whether this server can reprint a ticket (the route arrives with the printing room). */
async function detectReprint() {
  S.reprint = null;
  try {
    const doc = await api.ok('GET', '/api/openapi.json');
    const op = doc && doc.paths && doc.paths['/api/v1/tickets/{number}/reprint'];
    if (op && op.post) S.reprint = { body: Boolean(op.post.requestBody) };
  } catch {
    S.reprint = null;
  }
}

// ------------------------------------------------------------------ choosing a counter

async function loadCounters() {
  try {
    return await api.ok('GET', '/api/v1/counters');
  } catch (e) {
    failureNotice(e instanceof NetworkError ? 'Brak połączenia z serwerem.' : e.message);
    return null;
  }
}

async function chooseView(message) {
  stopLive();
  S.counterId = null;
  setTitle('Panel urzędnika');
  show('choose');
  const list = $('#counter-list');
  fill(list, h('li', { text: 'Ładowanie stanowisk…' }));
  const counters = await loadCounters();
  if (!counters) {
    fill(list, h('li', {}, h('button', { type: 'button', onclick: () => chooseView(), text: 'Spróbuj ponownie' })));
    return;
  }
  const last = Number(localStorage.getItem('kolejka.counter')) || null;
  let focusMe = null;
  fill(
    list,
    counters.map((c) => {
      const free = c.status === 'closed';
      const serves = c.serves.map((s) => caseTypeName(s.case_type)).join(', ');
      const btn = h('button', {
        type: 'button',
        disabled: !free,
        onclick: () => openCounter(c.id),
        text: free ? `Otwórz ${pl(c.name)}` : `${pl(c.name)} — zajęte`,
      });
      if (free && (c.id === last || !focusMe)) focusMe = btn;
      return h(
        'li',
        {},
        h('h3', { text: pl(c.name) }),
        h('p', { text: `${COUNTER_STATUS[c.status] || c.status}${c.operator ? ` — ${c.operator}` : ''}` }),
        h('p', { class: 'hint', text: `Sprawy: ${serves}` }),
        btn,
      );
    }),
  );
  if (message) failureNotice(message, { kind: 'warn' });
  if (focusMe) focusMe.focus();
}

function openCounter(id) {
  return act({ label: `Otwarcie stanowiska ${id}`, path: `/api/v1/counters/${id}/open`, then: () => enterCounter(id) });
}

// ------------------------------------------------------------------ the counter

function enterCounter(id) {
  S.counterId = id;
  localStorage.setItem('kolejka.counter', String(id));
  const info = S.office && S.office.counters.find((c) => c.id === id);
  setTitle(info ? pl(info.name) : `Stanowisko ${id}`);
  show('counter');
  renderReprintNote();
  stopLive();
  S.live = new Live({
    channel: 'clerk',
    hello: { counter: id },
    onSnapshot: (m) => {
      S.counter = m.counter;
      S.queues = m.queues;
      S.queuesAt = serverNow();
      render();
      refreshTickets();
    },
    onMessage: (m) => {
      if (m.type === 'counter' && m.counter && m.counter.id === S.counterId) {
        S.counter = m.counter;
        render();
        refreshTicketsSoon();
      } else if (m.type === 'queues') {
        S.queues = m.queues;
        S.queuesAt = serverNow();
        renderQueues();
        refreshTicketsSoon();
      }
    },
    onStatus: (online) => {
      const conn = $('#conn');
      conn.hidden = false;
      conn.textContent = online ? 'Połączono' : 'Brak połączenia';
      conn.classList.toggle('offline', !online);
      $('#offline').hidden = online;
      $('#view-counter').classList.toggle('stale', !online);
      if (online) announce('Połączenie z serwerem przywrócone.');
      else announce('Brak połączenia z serwerem.');
    },
    onRefused: (code) => {
      if (code === 4401) sessionEnded();
    },
  }).start();
  $('#main').focus();
}

function stopLive() {
  if (S.live) S.live.stop();
  S.live = null;
}

function caseTypeName(code) {
  const ct = S.office && S.office.case_types.find((c) => c.code === code);
  return ct ? pl(ct.name) : code;
}

function render() {
  const c = S.counter;
  if (!c) return;
  if (c.status === 'closed') {
    chooseView(`${pl(c.name)} zostało zamknięte. Wybierz stanowisko, aby pracować dalej.`);
    return;
  }
  const status = `${pl(c.name)}: ${COUNTER_STATUS[c.status] || c.status}` +
    (c.pause_reason ? ` (${c.pause_reason})` : '') +
    (c.operator ? ` — ${c.operator}` : '') +
    (c.since ? `, od ${fmtTime(c.since)}` : '');
  $('#counter-status').textContent = status;
  const t = c.current;
  $('#cur-number').textContent = t ? t.number : '—';
  if (t) {
    $('#cur-state').textContent = `${TICKET_STATE[t.state] || t.state} — ${caseTypeName(t.case_type)}`;
    const meta = [];
    if (t.calls > 1) meta.push(`wezwań: ${t.calls}`);
    if (t.priority) meta.push('obsługa poza kolejnością');
    if (t.transfers > 0) meta.push(`przekazany (${t.transfers}×), wydany dla: ${caseTypeName(t.issued_case_type)}`);
    meta.push(`pobrany o ${fmtTime(t.issued_at)}`);
    $('#cur-meta').textContent = meta.join(' · ');
  } else {
    $('#cur-state').textContent = c.status === 'paused' ? 'Przerwa — nikt nie jest wzywany' : 'Brak wezwanego biletu';
    $('#cur-meta').textContent = '';
  }
  tick();
  renderButtons();
  renderQueues();
  renderWaiting();
}

/** Which buttons make sense now (the server decides anyway). */
function renderButtons() {
  const c = S.counter;
  const t = c && c.current;
  const open = c && c.status === 'open';
  const state = t ? t.state : null;
  const en = {
    'btn-next': open && !t,
    'btn-recall': state === 'called',
    'btn-start': state === 'called',
    'btn-done': state === 'serving',
    'btn-noshow': state === 'called',
    'btn-park': state === 'called' || state === 'serving',
    'btn-transfer': Boolean(t),
    'btn-call': open && !t,
    'btn-pause': open && !t,
    'btn-resume': c && c.status === 'paused',
    'btn-reprint': Boolean(t) && Boolean(S.reprint),
    'btn-close': c && !t,
  };
  for (const [id, on] of Object.entries(en)) $(`#${id}`).disabled = !on;
}

function renderReprintNote() {
  $('#btn-reprint').disabled = true;
  $('#reprint-note').textContent = S.reprint
    ? 'Drukuj ponownie: drukuje jeszcze raz bilet, który jest przy stanowisku.'
    : 'Drukuj ponownie: niedostępne — ten serwer nie ma jeszcze ponownego wydruku biletów.';
}

/** The running timers: every element with `data-from` (epoch ms) shows the time since. */
function tick() {
  const t = S.counter && S.counter.current;
  const label = $('#cur-timer-label');
  const timer = $('#cur-timer');
  if (t && t.state === 'serving' && t.started_at) {
    label.textContent = 'Czas obsługi';
    timer.textContent = fmtClock(secondsSince(t.started_at));
  } else if (t && t.called_at) {
    label.textContent = 'Od wezwania';
    timer.textContent = fmtClock(secondsSince(t.called_at));
  } else {
    label.textContent = 'Czas';
    timer.textContent = '—';
  }
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-from]')) {
    el.textContent = fmtClock((now - Number(el.dataset.from)) / 1000);
  }
}

function renderQueues() {
  const body = $('#queues');
  const weights = new Map((S.counter ? S.counter.serves : []).map((s) => [s.case_type, s.weight]));
  const served = S.queues.filter((q) => weights.has(q.code));
  const rows = (served.length ? served : S.queues).map((q) => {
    const longest = q.waiting > 0 && q.longest_wait_s !== null
      ? h('td', { class: 'num', 'data-from': String((S.queuesAt || serverNow()) - q.longest_wait_s * 1000) })
      : h('td', { class: 'num', text: '—' });
    const over = q.waiting > 0 && q.longest_wait_s !== null && q.longest_wait_s > q.target_wait_min * 60;
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, `${q.prefix} · ${pl(q.name)}`, over ? h('span', { class: 'badge bad', text: ' ponad normę' }) : null),
      h('td', { class: 'num', text: String(q.waiting) }),
      longest,
      h('td', { class: 'num', text: fmtMin(q.estimated_wait_min) }),
      h('td', { class: 'num', text: weights.has(q.code) ? String(weights.get(q.code)) : '—' }),
    );
  });
  fill(body, rows.length ? rows : h('tr', {}, h('td', { colspan: '5', text: 'Brak kolejek.' })));
  tick();
}

// ------------------------------------------------------------------ tickets to call by number

let ticketsTimer = null;
function refreshTicketsSoon() {
  clearTimeout(ticketsTimer);
  ticketsTimer = setTimeout(refreshTickets, 250);
}

async function refreshTickets() {
  if (S.view !== 'counter') return;
  try {
    S.tickets = await api.ok('GET', '/api/v1/tickets');
  } catch {
    return; // the list stays as it was; the socket brings the next change
  }
  renderWaiting();
}

function callable() {
  const id = S.counterId;
  const serves = new Set((S.counter ? S.counter.serves : []).map((s) => s.case_type));
  const waiting = S.tickets.filter(
    (t) => t.state === 'waiting' && (t.target_counter === id || (t.target_counter === null && serves.has(t.case_type))),
  );
  const parked = S.tickets.filter((t) => t.state === 'parked');
  const noShow = S.tickets.filter((t) => t.state === 'no_show');
  return { waiting, parked, noShow };
}

function renderWaiting() {
  const box = $('#waiting');
  if (!box) return;
  const c = S.counter;
  const canCall = c && c.status === 'open' && !c.current;
  const { waiting, parked, noShow } = callable();
  const group = (title, list, note) => {
    const shown = list.slice(0, 15);
    return h(
      'section',
      { 'aria-label': title },
      h('h3', { text: `${title} (${list.length})` }),
      list.length === 0
        ? h('p', { class: 'hint', text: 'Brak.' })
        : h(
          'ul',
          { class: 'tickets' },
          shown.map((t) => h(
            'li',
            {},
            h('span', { class: 'tn', text: t.number }),
            h('span', {}, caseTypeName(t.case_type), t.target_counter === S.counterId ? ' · przekazany tutaj' : '', t.priority ? ' · poza kolejnością' : '', note ? ` · ${note(t)}` : ''),
            h('button', {
              type: 'button',
              class: 'secondary',
              disabled: !canCall,
              'aria-label': `Wezwij ${t.number}`,
              onclick: () => callNumber(t.number),
              text: 'Wezwij',
            }),
          )),
        ),
      list.length > shown.length ? h('p', { class: 'hint', text: `…i ${list.length - shown.length} więcej (wezwij numer klawiszem C).` }) : null,
    );
  };
  fill(
    box,
    group('Oczekujące', waiting, (t) => `od ${fmtTime(t.issued_at)}`),
    group('Odłożone', parked),
    group('Nieobecne', noShow),
  );
  const dl = $('#call-numbers');
  fill(dl, [...waiting, ...parked, ...noShow].map((t) => h('option', { value: t.number })));
}

// ------------------------------------------------------------------ actions

/**
 * Sends one button press. Resolves true when the server did it.
 * @param {{label: string, path: string, body?: object, key?: string, then?: () => void}} a
 *   key: the press's Idempotency-Key (given only when retrying it); then: run after success
 */
async function act(a) {
  if (S.pending) {
    // A press while the previous one is on its way waits for it (one at most); if the
    // previous one fails, this one is not sent, and the page says so.
    if (S.queued) {
      failureNotice(`Nie wysłano: „${a.label}” — poczekaj, aż serwer odpowie na poprzednie polecenia.`, { kind: 'warn' });
      return false;
    }
    S.queued = a;
    const ok = await S.pendingDone;
    S.queued = null;
    if (!ok) {
      addFailureLine(`Nie wysłano też: „${a.label}”, bo poprzednie polecenie się nie udało.`);
      return false;
    }
  }
  let finished;
  S.pendingDone = new Promise((resolve) => {
    finished = resolve;
  });
  let result = false;
  try {
    result = await send(a);
    return result;
  } finally {
    finished(result);
  }
}

async function send(a) {
  const press = { ...a, key: a.key || newKey() };
  S.pending = press;
  $('#actions').setAttribute('aria-busy', 'true');
  clearFailure();
  try {
    const r = await api.request('POST', press.path, press.body, { key: press.key });
    if (r.status >= 200 && r.status < 300) {
      if (r.data && r.data.counter && r.data.counter.id === S.counterId) {
        S.counter = r.data.counter;
        render();
        refreshTicketsSoon();
      }
      const n = r.data && r.data.ticket ? ` ${r.data.ticket.number}` : '';
      announce(`${press.label}${n}: wykonano.`);
      if (press.then) press.then();
      return true;
    }
    if (r.status === 401) return false; // sessionEnded() shows the sign-in
    failureNotice(`${press.label}: ${refusalText(r.status, r.data)}`);
    if (S.live) S.live.resync();
    return false;
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    networkFailure(press);
    return false;
  } finally {
    S.pending = null;
    $('#actions').removeAttribute('aria-busy');
  }
}

/** No answer: the press may or may not have arrived. Offer to send the same press again. */
function networkFailure(press) {
  const box = $('#failure');
  const retry = h('button', {
    type: 'button',
    id: 'failure-retry',
    onclick: () => act(press),
    text: 'Ponów',
  });
  fill(
    box,
    h('p', {}, h('strong', { text: `Nie udało się: „${press.label}”.` }), ' Brak odpowiedzi serwera — nie wiadomo, czy polecenie dotarło.'),
    h('p', { text: 'Ponowienie jest bezpieczne: serwer wykona to polecenie tylko raz.' }),
    h('div', { class: 'row' }, retry, h('button', { type: 'button', class: 'secondary', onclick: clearFailure, text: 'Porzuć' })),
  );
  box.className = 'notice error';
  box.hidden = false;
  retry.focus();
}

function addFailureLine(text) {
  const box = $('#failure');
  if (box.hidden) {
    failureNotice(text);
    return;
  }
  box.insertBefore(h('p', { text }), box.lastElementChild);
}

function failureNotice(text, { kind = 'error' } = {}) {
  const box = $('#failure');
  fill(
    box,
    h('p', { text }),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', onclick: clearFailure, text: 'Zamknij' })),
  );
  box.className = kind === 'info' ? 'notice' : `notice ${kind}`;
  box.hidden = false;
}

function clearFailure() {
  const box = $('#failure');
  const hadFocus = box.contains(document.activeElement);
  box.hidden = true;
  box.replaceChildren();
  if (hadFocus) $('#main').focus();
}

const path = (action) => `/api/v1/counters/${S.counterId}/${action}`;

function simple(action, label) {
  return () => act({ label, path: path(action) });
}

function callNumber(number) {
  return act({ label: `Wezwanie numeru ${number}`, path: path('call'), body: { number } });
}

async function reprint() {
  const t = S.counter && S.counter.current;
  if (!t || !S.reprint) return;
  try {
    const r = await api.request('POST', `/api/v1/tickets/${encodeURIComponent(t.number)}/reprint`, S.reprint.body ? {} : undefined, { key: newKey() });
    if (r.status >= 200 && r.status < 300) {
      const p = r.data && r.data.print ? r.data.print : {};
      const where = p.printer ? ` (drukarka: ${p.printer})` : '';
      if (p.status === 'failed') {
        failureNotice(`Ponowny wydruk biletu ${t.number} nie powiódł się${where}: ${p.reason || 'błąd drukarki'}.`);
      } else {
        const text = p.status === 'printed' ? `Bilet ${t.number} wydrukowano ponownie${where}.` : `Bilet ${t.number} wysłano do druku${where}.`;
        failureNotice(text, { kind: 'info' });
        announce(text);
      }
    } else failureNotice(`Ponowny wydruk: ${refusalText(r.status, r.data)}`);
  } catch {
    failureNotice(`Ponowny wydruk biletu ${t.number}: brak połączenia z serwerem. Spróbuj ponownie.`);
  }
}

function closeCounter() {
  return act({ label: 'Zamknięcie stanowiska', path: path('close'), then: () => chooseView() });
}

// ------------------------------------------------------------------ dialogs

function openDialog(dlg, focus) {
  for (const err of dlg.querySelectorAll('[role="alert"]')) err.hidden = true;
  dlg.showModal();
  if (focus) focus.focus();
}

async function openTransfer() {
  const t = S.counter && S.counter.current;
  if (!t) return;
  $('#transfer-number').textContent = t.number;
  fill(
    $('#transfer-case-types'),
    S.office.case_types
      .filter((c) => c.code !== t.case_type)
      .map((c) => h('label', {}, h('input', { type: 'radio', name: 'target', value: `case_type:${c.code}` }), `${c.prefix} · ${pl(c.name)}`)),
  );
  const counters = (await loadCounters()) || [];
  fill(
    $('#transfer-counters'),
    S.office.counters
      .filter((c) => c.id !== S.counterId)
      .map((c) => {
        const live = counters.find((x) => x.id === c.id);
        const st = live ? ` — ${COUNTER_STATUS[live.status] || live.status}` : '';
        return h('label', {}, h('input', { type: 'radio', name: 'target', value: `counter:${c.id}` }), `${pl(c.name)}${st}`);
      }),
  );
  const first = $('#dlg-transfer input[name="target"]');
  openDialog($('#dlg-transfer'), first);
}

function onTransferSubmit(ev) {
  if (ev.submitter && ev.submitter.value === 'cancel') return;
  ev.preventDefault();
  const picked = $('#dlg-transfer input[name="target"]:checked');
  if (!picked) {
    const err = $('#transfer-error');
    err.textContent = 'Wybierz sprawę albo stanowisko.';
    err.hidden = false;
    return;
  }
  $('#dlg-transfer').close();
  const [kind, value] = picked.value.split(':');
  const body = kind === 'counter' ? { counter: Number(value) } : { case_type: value };
  const where = kind === 'counter' ? `stanowisko ${value}` : caseTypeName(value);
  act({ label: `Przekazanie do: ${where}`, path: path('transfer'), body });
}

function openPause() {
  $('#pause-other').value = '';
  openDialog($('#dlg-pause'), $('#dlg-pause input[name="reason"]:checked'));
}

function onPauseSubmit(ev) {
  if (ev.submitter && ev.submitter.value === 'cancel') return;
  ev.preventDefault();
  const picked = $('#dlg-pause input[name="reason"]:checked');
  let reason = picked ? picked.value : 'Przerwa';
  const other = $('#pause-other').value.trim();
  if (reason === 'other') reason = other;
  if (!reason) {
    const err = $('#pause-error');
    err.textContent = 'Wpisz powód przerwy.';
    err.hidden = false;
    $('#pause-other').focus();
    return;
  }
  $('#dlg-pause').close();
  act({ label: `Przerwa (${reason})`, path: path('pause'), body: { reason } });
}

function openCall() {
  $('#call-number').value = '';
  openDialog($('#dlg-call'), $('#call-number'));
}

function onCallSubmit(ev) {
  if (ev.submitter && ev.submitter.value === 'cancel') return;
  ev.preventDefault();
  const number = $('#call-number').value.trim().toUpperCase();
  if (!/^[A-Z]{1,3}\d{1,5}$/.test(number)) {
    const err = $('#call-error');
    err.textContent = 'Podaj numer biletu, np. A012.';
    err.hidden = false;
    $('#call-number').focus();
    return;
  }
  $('#dlg-call').close();
  callNumber(number);
}

// ------------------------------------------------------------------ keyboard

const KEYS = {
  n: 'btn-next',
  ' ': 'btn-next',
  r: 'btn-recall',
  s: 'btn-start',
  d: 'btn-done',
  x: 'btn-noshow',
  p: 'btn-park',
  t: 'btn-transfer',
  c: 'btn-call',
  b: 'btn-pause',
  w: 'btn-resume',
  k: 'btn-reprint',
};

function onKey(ev) {
  if (S.view !== 'counter' || !$('#keys-on').checked) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
  if (document.querySelector('dialog[open]')) return;
  const target = ev.target;
  if (target instanceof Element && target.closest('input, textarea, select, [contenteditable]')) return;
  const id = KEYS[ev.key.toLowerCase()];
  if (!id) return;
  ev.preventDefault();
  const btn = document.getElementById(id);
  if (btn.disabled) {
    announce(`${btn.firstChild.textContent.trim()}: teraz niedostępne.`);
    return;
  }
  btn.click();
}

// ------------------------------------------------------------------ wiring

function wire() {
  $('#btn-next').addEventListener('click', simple('call-next', 'Wezwanie następnego'));
  $('#btn-recall').addEventListener('click', simple('recall', 'Ponowne wezwanie'));
  $('#btn-start').addEventListener('click', simple('start', 'Rozpoczęcie obsługi'));
  $('#btn-done').addEventListener('click', simple('finish', 'Zakończenie obsługi'));
  $('#btn-noshow').addEventListener('click', simple('no-show', 'Nieobecność'));
  $('#btn-park').addEventListener('click', simple('park', 'Odłożenie'));
  $('#btn-resume').addEventListener('click', simple('resume', 'Wznowienie pracy'));
  $('#btn-transfer').addEventListener('click', openTransfer);
  $('#btn-call').addEventListener('click', openCall);
  $('#btn-pause').addEventListener('click', openPause);
  $('#btn-reprint').addEventListener('click', reprint);
  $('#btn-close').addEventListener('click', closeCounter);
  $('#form-transfer').addEventListener('submit', onTransferSubmit);
  $('#form-pause').addEventListener('submit', onPauseSubmit);
  $('#form-call').addEventListener('submit', onCallSubmit);
  $('#pause-other').addEventListener('input', () => {
    const other = $('#dlg-pause input[value="other"]');
    if ($('#pause-other').value.trim()) other.checked = true;
  });
  $('#signout').addEventListener('click', async () => {
    const t = S.counter && S.counter.current;
    if (S.view === 'counter' && t && !window.confirm(`Przy stanowisku jest bilet ${t.number}. Stanowisko zostanie otwarte na Twoje nazwisko, dopóki kierownik go nie zamknie. Wylogować mimo to?`)) return;
    stopLive();
    await signOut();
    signInView('Wylogowano.');
  });
  const keysOn = $('#keys-on');
  keysOn.checked = localStorage.getItem('kolejka.keys') !== 'off';
  keysOn.addEventListener('change', () => localStorage.setItem('kolejka.keys', keysOn.checked ? 'on' : 'off'));
  document.addEventListener('keydown', onKey);
  setInterval(tick, 1000);
}

wire();
boot();
