// The hall screen (/display): the newest call very large, the calls before it, the queues
// with their estimated waits, a clock, and the office's messages between calls. Live over
// the `hall` channel (docs/PROTOCOL.md); announces calls and recalls with a chime and voice.
//
// Nine lives: display/lib/live.js reconnects with backoff and jitter and starts every
// connection with a snapshot; a snapshot never announces (calls made while the screen was
// away only appear in the history), and a `call` is announced only if it is recent. State is
// bounded (a fixed number of history rows, the queue's own bound), so weeks of calls do not
// grow the page. Settings come from the URL (docs/INSTALL.md).

import { deviceFetch } from './lib/device.js';
import { Live } from './lib/live.js';
import { Announcer, WebAudioPlayer } from './lib/announcer.js';
import {
  ServerClock,
  VersionWatch,
  audioContext,
  inQuiet,
  pairScreen,
  settings,
  soundGate,
} from './lib/screen.js';

const KIND = 'screen';
/** A `call` older than this (by its own time) is shown but not announced. */
const RECENT_MS = 30000;

const cfg = settings();
const clock = new ServerClock();
const $ = (id) => document.getElementById(id);

const TEXT = {
  pl: {
    welcome: 'Zapraszamy',
    called: 'Wzywany numer',
    history: 'Ostatnie wezwania',
    fresh: 'Nowe wezwanie',
    again: 'Ponowne wezwanie',
    counter: 'Stanowisko',
    waiting: 'Czeka',
    wait: 'Czas oczekiwania',
    waitAbout: (m) => `ok. ${m} min`,
    noWait: '—',
    notIssuing: 'Numerki wstrzymane',
  },
  uk: {
    welcome: 'Ласкаво просимо',
    called: 'Викликається номер',
    history: 'Останні виклики',
    fresh: 'Новий виклик',
    again: 'Повторний виклик',
    counter: 'Вікно',
  },
  en: {
    welcome: 'Welcome',
    called: 'Now calling',
    history: 'Latest calls',
    fresh: 'New call',
    again: 'Called again',
    counter: 'Counter',
  },
};
const T = TEXT.pl;
const T2 = cfg.lang2 ? TEXT[cfg.lang2] : null;

const state = {
  day: null,
  version: 0,
  counters: new Map(),
  queues: [],
  /** Newest first; one entry per ticket number; at most cfg.history + 1. */
  history: [],
  messages: [],
  highlighted: false,
  online: null,
  lastDataAt: 0,
};

let token = null;
let live = null;
let versionWatch = null;
let highlightTimer = null;
let slideIndex = 0;

// ------------------------------------------------------------------ sound

const ctx = cfg.sound ? audioContext() : null;
const player =
  globalThis.__kolejkaPlayer || new WebAudioPlayer({ context: ctx, speech: globalThis.speechSynthesis || null });
const announcer = new Announcer({
  player,
  langs: cfg.lang2 ? ['pl', cfg.lang2] : ['pl'],
  volume: cfg.sound ? cfg.volume : 0,
  isQuiet: () => inQuiet(cfg.quiet, clock.minutes()),
});

// ------------------------------------------------------------------ rendering

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function counterName(id, lang = 'pl') {
  const c = state.counters.get(id);
  return (c && c.name && c.name[lang]) || `${(TEXT[lang] || T).counter} ${id}`;
}

function counterLocation(id) {
  const c = state.counters.get(id);
  return (c && c.location && c.location.pl) || '';
}

function renderNow() {
  const newest = state.history[0];
  $('now-call').hidden = !newest;
  $('now-idle').hidden = !!newest;
  setText($('now-title').firstChild, newest ? `${T.called} ` : `${T.welcome} `);
  setText($('now-title2'), T2 ? (newest ? T2.called : T2.welcome) : '');
  if (newest) {
    setText($('now-number'), newest.number);
    setText($('now-counter'), counterName(newest.counter));
    const second = T2 ? counterName(newest.counter, cfg.lang2) : '';
    const where = [counterLocation(newest.counter), second].filter(Boolean).join(' · ');
    setText($('now-location'), where);
  }
  const badge = $('now-badge');
  if (state.highlighted && newest) {
    const again = newest.recall;
    const text = again ? T.again : T.fresh;
    const text2 = T2 ? (again ? T2.again : T2.fresh) : '';
    setText(badge, text2 ? `${text} · ${text2}` : text);
    badge.hidden = false;
  } else {
    badge.hidden = true;
  }
  $('now').classList.toggle('fresh', state.highlighted && !!newest);
  renderMessages();
}

let historyRows = null;
function renderHistory() {
  const body = $('history');
  if (!historyRows) {
    historyRows = [];
    for (let i = 0; i < cfg.history; i++) {
      const tr = document.createElement('tr');
      const num = document.createElement('td');
      const ctr = document.createElement('td');
      num.className = 'h-number';
      ctr.className = 'h-counter';
      tr.append(num, ctr);
      tr.hidden = true;
      body.append(tr);
      historyRows.push({ tr, num, ctr });
    }
  }
  for (let i = 0; i < historyRows.length; i++) {
    const call = state.history[i + 1];
    const row = historyRows[i];
    row.tr.hidden = !call;
    if (call) {
      setText(row.num, call.number);
      setText(row.ctr, String(call.counter));
    }
  }
}

let queueItems = new Map();
let queueCodes = '';
function renderQueues() {
  const section = $('queues-section');
  section.hidden = !cfg.queues || state.queues.length === 0;
  if (section.hidden) return;
  const list = $('queues');
  const codes = state.queues.map((q) => q.code).join(',');
  if (codes !== queueCodes) {
    queueCodes = codes;
    queueItems = new Map();
    list.replaceChildren();
    for (const q of state.queues) {
      const li = document.createElement('li');
      li.className = 'queue';
      const prefix = document.createElement('span');
      prefix.className = 'q-prefix';
      const name = document.createElement('span');
      name.className = 'q-name';
      const name1 = document.createElement('span');
      const name2 = document.createElement('span');
      name2.className = 'second';
      if (cfg.lang2) name2.lang = cfg.lang2;
      name.append(name1, name2);
      const count = document.createElement('span');
      count.className = 'q-count';
      const wait = document.createElement('span');
      wait.className = 'q-wait';
      wait.hidden = !cfg.wait;
      const waitLabel = document.createElement('span');
      waitLabel.className = 'visually-hidden';
      waitLabel.textContent = `${T.wait}: `;
      const waitValue = document.createElement('span');
      wait.append(waitLabel, waitValue);
      li.append(prefix, name, count, wait);
      list.append(li);
      queueItems.set(q.code, { prefix, name1, name2, count, waitValue, li });
    }
  }
  for (const q of state.queues) {
    const it = queueItems.get(q.code);
    if (!it) continue;
    setText(it.prefix, q.prefix);
    setText(it.name1, (q.name && q.name.pl) || q.code);
    setText(it.name2, cfg.lang2 && q.name ? q.name[cfg.lang2] || '' : '');
    setText(it.count, `${T.waiting}: ${q.waiting}`);
    let wait;
    if (!q.issuing) wait = T.notIssuing;
    else if (q.estimated_wait_min === null || q.estimated_wait_min === undefined) wait = T.noWait;
    else wait = T.waitAbout(q.estimated_wait_min);
    setText(it.waitValue, wait);
    it.li.dataset.code = q.code;
  }
}

function renderMessages() {
  const box = $('messages');
  const show = state.messages.length > 0 && !state.highlighted;
  box.hidden = !show;
  if (!show) return;
  const m = state.messages[slideIndex % state.messages.length];
  setText($('message-text'), (m.text && m.text.pl) || '');
  const second = cfg.lang2 && m.text && m.text[cfg.lang2] !== m.text.pl ? m.text[cfg.lang2] || '' : '';
  const el2 = $('message-text2');
  if (cfg.lang2) el2.lang = cfg.lang2;
  setText(el2, second);
  el2.hidden = !second;
}

function renderAll() {
  renderNow();
  renderHistory();
  renderQueues();
}

function highlight() {
  state.highlighted = true;
  clearTimeout(highlightTimer);
  highlightTimer = setTimeout(() => {
    state.highlighted = false;
    renderNow();
  }, cfg.highlightS * 1000);
}

// ------------------------------------------------------------------ state

function pushCall(call) {
  const h = state.history;
  const i = h.findIndex((c) => c.number === call.number);
  if (i >= 0) {
    if (!call.case_type) call.case_type = h[i].case_type;
    h.splice(i, 1);
  }
  h.unshift(call);
  if (h.length > cfg.history + 1) h.length = cfg.history + 1;
}

function onSnapshot(s) {
  if (state.day !== s.day) announcer.clear();
  state.day = s.day;
  state.version = s.version;
  state.counters = new Map((s.counters || []).map((c) => [c.id, c]));
  state.queues = s.queues || [];
  state.messages = s.messages || [];
  state.history = [];
  for (const c of s.recent_calls || []) {
    if (state.history.some((h) => h.number === c.number)) continue;
    state.history.push({ number: c.number, counter: c.counter, case_type: c.case_type, at: c.at, recall: false });
    if (state.history.length > cfg.history) break;
  }
  state.lastDataAt = clock.now();
  $('problem').hidden = true;
  $('app').hidden = false;
  renderAll();
  document.body.dataset.version = String(s.version);
}

function onMessage(m) {
  state.version = m.version;
  state.lastDataAt = clock.now();
  switch (m.type) {
    case 'call':
    case 'recall': {
      const recall = m.type === 'recall';
      pushCall({ number: m.number, counter: m.counter, case_type: m.case_type, at: m.at, recall });
      highlight();
      renderNow();
      renderHistory();
      const at = Date.parse(m.at);
      if (clock.now() - at < RECENT_MS) {
        announcer.announce({ kind: m.type, number: m.number, counter: m.counter });
      }
      break;
    }
    case 'counter':
      if (m.counter) {
        state.counters.set(m.counter.id, m.counter);
        if (state.history[0] && state.history[0].counter === m.counter.id) renderNow();
      }
      break;
    case 'queues':
      state.queues = m.queues || [];
      renderQueues();
      break;
    case 'messages':
      state.messages = m.messages || [];
      renderMessages();
      break;
    default:
      break;
  }
  document.body.dataset.version = String(m.version);
}

function onStatus(online) {
  state.online = online;
  document.body.dataset.online = online ? '1' : '0';
  $('offline').hidden = online;
  if (!online) setText($('offline-since'), state.lastDataAt ? clock.hhmm(state.lastDataAt) : '—');
}

async function onRefused(code, reason) {
  if (code === 4401) {
    // The token was refused. ensureDevice checks it over HTTP: if it was revoked (or the
    // server has a new database) the screen pairs again and shows a code; if the token is
    // fine after all, wait before trying the socket again rather than loop.
    live.stop();
    const before = token;
    token = await pair();
    if (token === before) await new Promise((ok) => setTimeout(ok, 30000));
    live.start();
    return;
  }
  const what = {
    4400: 'błędne ustawienia ekranu w adresie strony',
    4403: 'to urządzenie nie może pokazywać ekranu w hali',
    4404: 'nieznane stanowisko lub rodzaj sprawy w adresie strony',
  }[code];
  setText($('problem-text'), `${what || 'odmowa serwera'} (${code}: ${reason || '—'}). Ekran ponawia próbę.`);
  $('problem').hidden = false;
}

// ------------------------------------------------------------------ start

function pair() {
  return pairScreen({
    kind: KIND,
    name: cfg.name || 'Ekran w hali',
    pairingEl: $('pairing'),
    codeEl: $('pairing-code'),
    expiresEl: $('pairing-expires'),
    clock,
  });
}

function tick() {
  setText($('clock'), clock.hhmm());
}

async function main() {
  const health = await clock.sync();
  versionWatch = new VersionWatch(health && health.pages);
  $('starting').hidden = true;
  token = await pair();
  try {
    const resp = await deviceFetch(token, '/api/v1/office');
    if (resp.ok) {
      const office = await resp.json();
      clock.setTimeZone(office.time_zone);
      setText($('office'), (office.name && office.name.pl) || '');
    }
  } catch {
    /* the screen works without the office's name */
  }
  setText($('history-title').firstChild, `${T.history} `);
  setText($('history-title2'), T2 ? T2.history : '');
  for (const el of document.querySelectorAll('.second')) {
    if (cfg.lang2 && !el.lang) el.lang = cfg.lang2;
  }
  tick();
  setInterval(tick, 1000);
  setInterval(() => {
    if (state.messages.length > 1) {
      slideIndex = (slideIndex + 1) % state.messages.length;
      renderMessages();
    }
  }, cfg.slideS * 1000);
  setInterval(() => clock.sync(), 15 * 60 * 1000);
  soundGate(ctx, $('sound'));

  const hello = {};
  if (cfg.caseTypes.length) hello.case_types = cfg.caseTypes;
  if (cfg.counters.length) hello.counters = cfg.counters;
  live = new Live({
    channel: 'hall',
    hello,
    token: () => token,
    onSnapshot,
    onMessage,
    onStatus,
    onRefused,
    onHealth: (h) => versionWatch.check(h),
  });
  globalThis.__kolejka.live = live;
  live.start();
}

globalThis.__kolejka = { cfg, state, announcer, player, clock, audio: ctx, live: null };
main();
