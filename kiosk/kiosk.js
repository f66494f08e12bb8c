// The ticket machine (kiosk): pick a case type, read the documents to bring, optionally declare
// priority, get a ticket. A registered device (display/lib/device.js) that follows the queues
// live (the `hall` channel, display/lib/live.js) and says so plainly when the server cannot be
// reached, recovering by itself.
//
// Time limits are generous and never cut someone off in the middle of reading: the language
// goes back to Polish after 90 s without a touch on the first screen; on the documents and
// priority steps the kiosk first asks "do you need more time?" after 2 minutes, and starts
// again only if nobody answers within another minute. After a ticket, the number stays on
// screen for 30 s (2 minutes when printing failed), or until "Done".

import { DeviceRevoked, deviceFetch, ensureDevice, forgetDevice } from '/display/lib/device.js';
import { Live } from '/display/lib/live.js';
import { LANGS, waitWords, words } from '/kiosk/i18n.js';

/** Time limits, in milliseconds (none is shorter than 60 s of inactivity). */
const LIMITS = {
  languageIdle: 90_000,
  stepIdle: 120_000,
  moreTimeAnswer: 60_000,
  issuedPrinted: 30_000,
  issuedFailed: 120_000,
};

const params = new URLSearchParams(location.search);
/** The name this kiosk asks to be registered with; printers are assigned by kiosk name. */
const KIOSK_NAME = params.get('name') || undefined;

const $ = (id) => document.getElementById(id);

const state = {
  lang: 'pl',
  token: null,
  office: null,
  /** code → queue: waiting, estimated_wait_min, issuing, not_issuing_reason */
  queues: new Map(),
  step: 'loading',
  shownAt: 0,
  selected: null,
  issued: null,
  offline: false,
  busy: false,
};

let live = null;

// ------------------------------------------------------------------ words and language

function t() {
  return words(state.lang);
}

function text(texts) {
  if (!texts) return '';
  return texts[state.lang] || texts.pl || '';
}

function setLang(lang) {
  if (!LANGS.includes(lang)) lang = 'pl';
  state.lang = lang;
  document.documentElement.lang = lang;
  for (const b of document.querySelectorAll('.lang')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  }
  render();
  armIdle();
}

/** Fills every `data-t` element and every part that depends on the language. */
function render() {
  const w = t();
  for (const el of document.querySelectorAll('[data-t]')) {
    const v = w[el.dataset.t];
    if (typeof v === 'string') el.textContent = v;
  }
  document.title = state.office ? `${w.title} – ${text(state.office.name)}` : w.title;
  $('office-name').textContent = state.office ? text(state.office.name) : '';
  $('langs').setAttribute('aria-label', `${w.languages} / Język / Мова / Language`);
  renderClock();
  renderCases();
  renderCase();
  renderCategories();
  renderIssued();
}

function renderClock() {
  const tz = state.office && state.office.time_zone;
  try {
    $('clock').textContent = new Intl.DateTimeFormat(state.lang, {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: tz || undefined,
    }).format(new Date());
  } catch {
    $('clock').textContent = '';
  }
}

// ------------------------------------------------------------------ steps

const STEPS = ['loading', 'start', 'case', 'priority', 'issuing', 'issued'];

function show(step) {
  state.step = step;
  state.shownAt = performance.now();
  for (const s of STEPS) $(`step-${s}`).hidden = s !== step;
  const heading = $(`step-${step}`).querySelector('h1');
  // Screen readers and keyboards start at the top of the new step.
  if (heading && !state.offline) heading.focus({ preventScroll: false });
  armIdle();
}

/**
 * Whether a tap came too soon after its step appeared to be meant for it: the second tap of a
 * double tap on a case type must not take a ticket from the button that appeared under the
 * finger. Keyboard presses (`detail` 0) always count.
 */
function tooSoon(event) {
  return event.detail > 0 && performance.now() - state.shownAt < 400;
}

/** A click handler that ignores taps that came too soon. */
function onTap(id, handler) {
  $(id).addEventListener('click', (e) => {
    if (!tooSoon(e)) handler(e);
  });
}

function startAgain() {
  closeMoreTime();
  state.selected = null;
  state.issued = null;
  setLang('pl');
  show(state.office ? 'start' : 'loading');
}

// ------------------------------------------------------------------ the case types

function queueOf(code) {
  return state.queues.get(code) || null;
}

/** `{ issuing, line }`: whether it can take tickets now, and what the button says about it. */
function caseStatus(code) {
  const w = t();
  const q = queueOf(code);
  if (!q) return { issuing: false, line: w.unavailable };
  if (!q.issuing) {
    const reason = q.not_issuing_reason;
    return { issuing: false, line: w.reasons[reason] || w.reasons.unknown };
  }
  const waiting = q.waiting > 0 ? w.waiting(q.waiting) : w.waitingNone;
  return { issuing: true, line: `${waiting} · ${waitWords(state.lang, q.estimated_wait_min)}` };
}

/**
 * Draws the case-type buttons once, then updates them in place: a live update must never
 * replace a button under a finger that is pressing it, nor move the keyboard focus.
 */
function renderCases() {
  const list = $('cases');
  if (!state.office) {
    list.replaceChildren();
    return;
  }
  const codes = state.office.case_types.map((ct) => ct.code);
  const drawn = [...list.querySelectorAll('.case')].map((b) => b.dataset.code);
  if (drawn.join('\n') !== codes.join('\n')) {
    list.replaceChildren(...state.office.case_types.map(caseItem));
  }
  for (const ct of state.office.case_types) {
    const b = list.querySelector(`[data-code="${CSS.escape(ct.code)}"]`);
    if (!b) continue;
    const { issuing, line } = caseStatus(ct.code);
    b.setAttribute('aria-disabled', String(!issuing));
    b.querySelector('.case-prefix').textContent = ct.prefix;
    b.querySelector('.case-name').textContent = text(ct.name);
    b.querySelector('.case-info').textContent = line;
  }
}

function caseItem(ct) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'case';
  b.dataset.code = ct.code;
  const prefix = document.createElement('span');
  prefix.className = 'case-prefix';
  prefix.setAttribute('aria-hidden', 'true');
  const body = document.createElement('span');
  body.className = 'case-text';
  const name = document.createElement('span');
  name.className = 'case-name';
  const info = document.createElement('span');
  info.className = 'case-info';
  body.append(name, info);
  b.append(prefix, body);
  b.addEventListener('click', () => {
    if (b.getAttribute('aria-disabled') === 'true') return;
    openCase(ct.code);
  });
  li.append(b);
  return li;
}

function selectedCase() {
  if (!state.office || !state.selected) return null;
  return state.office.case_types.find((c) => c.code === state.selected) || null;
}

function openCase(code) {
  state.selected = code;
  renderCase();
  show('case');
}

function renderCase() {
  const ct = selectedCase();
  if (!ct) return;
  $('case-title').textContent = text(ct.name);
  $('case-queue').textContent = caseStatus(ct.code).line;
  $('case-docs').textContent = text(ct.documents);
  $('btn-priority').hidden = !(state.office.priority_categories || []).length;
}

function renderCategories() {
  const list = $('categories');
  if (!state.office) return;
  const items = (state.office.priority_categories || []).map((p) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn category';
    b.dataset.priority = p.code;
    b.textContent = text(p.name);
    b.addEventListener('click', (e) => {
      if (!tooSoon(e)) issue(p.code);
    });
    li.append(b);
    return li;
  });
  list.replaceChildren(...items);
}

// ------------------------------------------------------------------ issuing

async function issue(priority) {
  const ct = selectedCase();
  if (!ct || state.busy) return;
  state.busy = true;
  show('issuing');
  const body = { case_type: ct.code, lang: state.lang };
  if (priority) body.priority = priority;
  let resp;
  try {
    resp = await api('/api/v1/tickets', { method: 'POST', body }, 15000);
  } catch (e) {
    state.busy = false;
    if (e instanceof DeviceRevoked) return repair();
    // Not known whether the ticket was issued; the desk can look it up.
    setOffline(true);
    startAgain();
    return;
  }
  state.busy = false;
  if (resp.status === 201) {
    const issued = await resp.json();
    showIssued(issued);
    return;
  }
  if (resp.status >= 500) {
    setOffline(true);
    startAgain();
    return;
  }
  // Refused (stopped issuing, daily limit reached since the screen was drawn...).
  await loadQueues().catch(() => {});
  state.selected = ct.code;
  renderCase();
  show('case');
  $('case-queue').textContent = t().notIssued;
  announce(t().notIssued);
  beep('error');
}

function showIssued(issued) {
  const status = issued.print ? issued.print.status : 'failed';
  state.issued = {
    number: issued.ticket.number,
    caseType: issued.ticket.case_type,
    ahead: issued.people_ahead,
    wait: issued.estimated_wait_min,
    phone: issued.phone,
    print: status,
  };
  renderIssued();
  show('issued');
  announce(`${t().yourNumber}: ${spell(issued.ticket.number)}. ${$('issued-print').textContent}`);
  beep(status === 'failed' ? 'error' : 'ok');
  if (status === 'pending' && issued.print.job) followJob(issued.print.job, issued.ticket.number);
}

/** "A012" read out as "A 0 1 2", so that a screen reader does not say "A twelve". */
function spell(number) {
  return number.split('').join(' ');
}

function renderIssued() {
  const s = state.issued;
  if (!s) return;
  const w = t();
  $('issued-number').textContent = s.number;
  const ct = state.office && state.office.case_types.find((c) => c.code === s.caseType);
  $('issued-case').textContent = ct ? text(ct.name) : '';
  $('issued-ahead').textContent = w.ahead(s.ahead);
  $('issued-wait').textContent = w.estimated(waitWords(state.lang, s.wait, { short: true }));
  const printed = s.print === 'printed';
  const pending = s.print === 'pending';
  const line = $('issued-print');
  line.textContent = printed ? w.takeTicket : pending ? w.printing : w.printFailed;
  line.classList.toggle('failed', !printed && !pending);
  // The phone link instead of (or until) the paper.
  const qr = $('issued-qr');
  qr.hidden = printed || pending || !s.phone;
  if (!qr.hidden) {
    const img = $('issued-qr-img');
    const src = `/api/v1/public/ticket/${encodeURIComponent(s.phone.code)}/qr.svg`;
    if (img.getAttribute('src') !== src) img.setAttribute('src', src);
    img.alt = w.qrAlt;
  }
}

/** After a `pending` answer: asks how the print job went, for up to 10 s. */
async function followJob(job, number) {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    await sleep(700);
    if (!state.issued || state.issued.number !== number) return;
    try {
      const resp = await api(`/api/v1/print-jobs/${job}`, {}, 5000);
      if (resp.ok) {
        const j = await resp.json();
        if (j.state === 'printed') return setPrint(number, 'printed');
        if (j.state === 'failed' || j.state === 'waiting_to_retry') return setPrint(number, 'failed');
      }
    } catch {
      /* the answer comes with the next try, or the job counts as failed */
    }
  }
  setPrint(number, 'failed');
}

function setPrint(number, status) {
  if (!state.issued || state.issued.number !== number) return;
  state.issued.print = status;
  renderIssued();
  announce($('issued-print').textContent);
  if (status === 'failed') beep('error');
  armIdle();
}

// ------------------------------------------------------------------ sound

let audio = null;

/** A short generated chime: rising for a ticket, low and repeated when something failed. */
function beep(kind) {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    if (audio.state === 'suspended') audio.resume();
    const notes = kind === 'ok' ? [[660, 0], [880, 0.18]] : [[440, 0], [330, 0.22], [330, 0.44]];
    const now = audio.currentTime;
    for (const [freq, at] of notes) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.35, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.17);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.2);
    }
  } catch {
    /* no sound device: the screen says it all */
  }
}

function announce(message) {
  const el = $('announce');
  el.textContent = '';
  // A change after a tick is announced even when the text repeats.
  setTimeout(() => {
    el.textContent = message;
  }, 50);
}

// ------------------------------------------------------------------ time limits

let idleTimer = null;
let answerTimer = null;

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = null;
  if (state.offline || $('dlg-more-time').open) return;
  switch (state.step) {
    case 'start':
      if (state.lang !== 'pl') idleTimer = setTimeout(startAgain, LIMITS.languageIdle);
      break;
    case 'case':
    case 'priority':
      // Someone may be reading: ask before starting again.
      idleTimer = setTimeout(askMoreTime, LIMITS.stepIdle);
      break;
    case 'issued': {
      const printed = state.issued && state.issued.print === 'printed';
      idleTimer = setTimeout(startAgain, printed ? LIMITS.issuedPrinted : LIMITS.issuedFailed);
      break;
    }
    default:
  }
}

function askMoreTime() {
  const dlg = $('dlg-more-time');
  if (dlg.open) return;
  dlg.showModal();
  $('btn-more-time').focus();
  clearTimeout(answerTimer);
  answerTimer = setTimeout(startAgain, LIMITS.moreTimeAnswer);
}

function closeMoreTime() {
  clearTimeout(answerTimer);
  const dlg = $('dlg-more-time');
  if (dlg.open) dlg.close();
}

// ------------------------------------------------------------------ the server

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** A device request with a time limit; throws on network errors and DeviceRevoked on 401. */
async function api(path, options = {}, timeoutMs = 8000) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    return await deviceFetch(state.token, path, { ...options, signal: ctl.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function loadOffice() {
  const resp = await api('/api/v1/office');
  if (!resp.ok) throw new Error(`office: ${resp.status}`);
  state.office = await resp.json();
}

async function loadQueues() {
  const resp = await api('/api/v1/queues');
  if (!resp.ok) throw new Error(`queues: ${resp.status}`);
  const body = await resp.json();
  for (const q of body.case_types) state.queues.set(q.code, q);
  refreshQueueViews();
}

/** Redraws what shows queue lengths, without moving the citizen's place. */
function refreshQueueViews() {
  renderCases();
  if (state.step === 'case') $('case-queue').textContent = selectedCase() ? caseStatus(state.selected).line : '';
}

let queuesTimer = null;

/** Live queue views carry no reasons for not issuing: those come from the HTTP API. */
function applyHallQueues(queues) {
  let needReasons = false;
  for (const q of queues) {
    const old = state.queues.get(q.code) || {};
    const merged = { ...old, ...q };
    if (!q.issuing && (old.issuing !== false || !old.not_issuing_reason)) needReasons = true;
    if (q.issuing) merged.not_issuing_reason = null;
    state.queues.set(q.code, merged);
  }
  refreshQueueViews();
  if (needReasons) {
    clearTimeout(queuesTimer);
    queuesTimer = setTimeout(() => loadQueues().catch(() => {}), 300);
  }
}

let healthTimer = null;

/** The "not working" notice in every language, the current one first and largest. */
function renderOffline() {
  const order = [state.lang, ...LANGS.filter((l) => l !== state.lang)];
  const parts = order.map((lang, i) => {
    const w = words(lang);
    const block = document.createElement('div');
    block.lang = lang;
    block.className = i === 0 ? 'offline-lang first' : 'offline-lang';
    const title = document.createElement(i === 0 ? 'h2' : 'p');
    title.className = 'offline-title';
    title.textContent = w.offlineTitle;
    const body = document.createElement('p');
    body.textContent = w.offlineText;
    block.append(title, body);
    return block;
  });
  const retry = document.createElement('p');
  retry.className = 'muted';
  retry.lang = state.lang;
  retry.textContent = t().offlineRetry;
  $('offline-box').replaceChildren(...parts, retry);
}

function setOffline(offline) {
  if (offline === state.offline) return;
  state.offline = offline;
  if (offline) renderOffline();
  $('offline').hidden = !offline;
  $('app').inert = offline;
  if (offline) {
    closeMoreTime();
    clearTimeout(idleTimer);
    checkHealth();
  } else {
    clearTimeout(healthTimer);
    startAgain();
  }
}

/** While offline: every 3 s, is the server back? Then reload and reconnect at once. */
async function checkHealth() {
  clearTimeout(healthTimer);
  if (!state.offline) return;
  try {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 3000);
    const resp = await fetch('/healthz', { cache: 'no-store', signal: ctl.signal });
    clearTimeout(timer);
    if (resp.ok) {
      if (!state.office) await loadOffice();
      await loadQueues();
      if (live && !live.ws) live.connect();
      setOffline(false);
      return;
    }
  } catch (e) {
    if (e instanceof DeviceRevoked) return repair();
  }
  healthTimer = setTimeout(checkHealth, 3000);
}

/** The token was refused (revoked): pair again. */
function repair() {
  forgetDevice('kiosk');
  location.reload();
}

async function main() {
  setLang('pl');
  show('loading');
  // Keyboard: Escape goes one step back.
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || $('dlg-more-time').open) return;
    if (state.step === 'case') show('start');
    else if (state.step === 'priority') show('case');
    else if (state.step === 'issued') startAgain();
  });
  // Any touch or key counts as someone being there.
  for (const ev of ['pointerdown', 'keydown']) {
    document.addEventListener(ev, () => armIdle(), { capture: true, passive: true });
  }
  for (const b of document.querySelectorAll('.lang')) {
    b.addEventListener('click', () => setLang(b.dataset.lang));
  }
  onTap('btn-take', () => issue(null));
  onTap('btn-priority', () => show('priority'));
  onTap('btn-case-back', () => show('start'));
  onTap('btn-no-priority', () => issue(null));
  onTap('btn-priority-back', () => show('case'));
  onTap('btn-done', startAgain);
  $('btn-more-time').addEventListener('click', () => {
    closeMoreTime();
    armIdle();
  });
  $('btn-restart').addEventListener('click', startAgain);
  $('dlg-more-time').addEventListener('cancel', (e) => {
    // Escape in the question means "I am here".
    e.preventDefault();
    closeMoreTime();
    armIdle();
  });
  setInterval(renderClock, 15_000);

  state.token = await ensureDevice({
    kind: 'kiosk',
    name: KIOSK_NAME,
    onPairingCode: (code) => {
      const p = $('pairing');
      p.hidden = false;
      p.textContent = `${t().pairingTitle}. ${t().pairingText(code)}`;
    },
  });
  $('pairing').hidden = true;
  for (;;) {
    try {
      await loadOffice();
      await loadQueues();
      break;
    } catch (e) {
      if (e instanceof DeviceRevoked) return repair();
      setOffline(true);
      await sleep(3000);
    }
  }
  render();
  if (state.offline) setOffline(false);
  else show('start');

  live = new Live({
    channel: 'hall',
    token: () => state.token,
    onSnapshot: (snap) => {
      applyHallQueues(snap.queues || []);
      loadQueues().catch(() => {});
    },
    onMessage: (msg) => {
      if (msg.type === 'queues') applyHallQueues(msg.queues || []);
    },
    onStatus: (online) => {
      if (!online) setOffline(true);
      else if (state.offline) checkHealth();
    },
    onRefused: (code) => {
      if (code === 4401) repair();
    },
  }).start();
}

main();
