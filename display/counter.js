// The counter display (/display/counter/<id>): the small screen above one counter, showing
// the number called to it, or that the counter is closed or on a break. Live over the
// `counter` channel (docs/PROTOCOL.md); silent unless opened with `?sound=1`.

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

const KIND = 'counter_display';
const RECENT_MS = 30000;

const cfg = settings();
// A counter display is silent unless asked: the hall screen announces.
cfg.sound = new URLSearchParams(location.search).has('sound') ? cfg.sound : false;
const counterId = Number((/\/display\/counter\/(\d{1,3})\/?$/.exec(location.pathname) || [])[1]);
const clock = new ServerClock();
const $ = (id) => document.getElementById(id);

const TEXT = {
  pl: { counter: 'Stanowisko', called: 'Zapraszamy numer', serving: 'Obsługiwany numer', open: 'Czynne', closed: 'Nieczynne', paused: 'Przerwa' },
  uk: { counter: 'Вікно', called: 'Запрошуємо номер', serving: 'Обслуговується номер', open: 'Відкрито', closed: 'Зачинено', paused: 'Перерва' },
  en: { counter: 'Counter', called: 'Now calling', serving: 'Now serving', open: 'Open', closed: 'Closed', paused: 'Break' },
};
const T = TEXT.pl;
const T2 = cfg.lang2 ? TEXT[cfg.lang2] : null;

const state = { counter: null, version: 0, fresh: false, lastDataAt: 0 };
let token = null;
let live = null;
let versionWatch = null;
let freshTimer = null;

const ctx = cfg.sound ? audioContext() : null;
const player =
  globalThis.__kolejkaPlayer || new WebAudioPlayer({ context: ctx, speech: globalThis.speechSynthesis || null });
const announcer = new Announcer({
  player,
  langs: cfg.lang2 ? ['pl', cfg.lang2] : ['pl'],
  volume: cfg.sound ? cfg.volume : 0,
  isQuiet: () => inQuiet(cfg.quiet, clock.minutes()),
});

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function render() {
  const c = state.counter;
  if (!c) return;
  setText($('counter-name'), (c.name && c.name.pl) || `${T.counter} ${c.id}`);
  setText($('counter-location'), (c.location && c.location.pl) || '');
  const num = $('counter-number');
  let label = '';
  let label2 = '';
  let stateText = '';
  let stateText2 = '';
  if (c.status === 'closed') {
    stateText = T.closed;
    stateText2 = T2 ? T2.closed : '';
  } else if (c.status === 'paused') {
    stateText = T.paused;
    stateText2 = T2 ? T2.paused : '';
  } else if (c.current) {
    const serving = c.current.state === 'serving';
    label = serving ? T.serving : T.called;
    label2 = T2 ? (serving ? T2.serving : T2.called) : '';
  } else {
    stateText = T.open;
    stateText2 = T2 ? T2.open : '';
  }
  const showNumber = c.status !== 'closed' && c.status !== 'paused' && !!c.current;
  num.hidden = !showNumber;
  if (showNumber) setText(num, c.current.number);
  setText($('counter-label'), label2 ? `${label} · ${label2}` : label);
  $('counter-label').hidden = !label;
  setText($('counter-state'), stateText);
  $('counter-state').hidden = !stateText;
  setText($('counter-state2'), stateText2);
  $('counter-state2').hidden = !stateText2;
  $('app').classList.toggle('fresh', state.fresh && showNumber);
  document.body.dataset.status = c.status;
}

function onSnapshot(s) {
  state.counter = s.counter;
  state.version = s.version;
  state.lastDataAt = clock.now();
  $('problem').hidden = true;
  $('app').hidden = false;
  render();
  document.body.dataset.version = String(s.version);
}

function onMessage(m) {
  state.version = m.version;
  state.lastDataAt = clock.now();
  if (m.type === 'counter' && m.counter) {
    state.counter = m.counter;
    render();
  } else if (m.type === 'call' || m.type === 'recall') {
    // The `counter` message that follows carries the new state; light up now.
    if (state.counter) {
      state.counter = {
        ...state.counter,
        current: { number: m.number, state: 'called', calls: m.calls || 1 },
      };
    }
    state.fresh = true;
    clearTimeout(freshTimer);
    freshTimer = setTimeout(() => {
      state.fresh = false;
      render();
    }, cfg.highlightS * 1000);
    render();
    if (clock.now() - Date.parse(m.at) < RECENT_MS) {
      announcer.announce({ kind: m.type, number: m.number, counter: m.counter });
    }
  }
  document.body.dataset.version = String(m.version);
}

function onStatus(online) {
  document.body.dataset.online = online ? '1' : '0';
  $('offline').hidden = online;
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
    4400: 'błędny adres wyświetlacza',
    4403: 'to urządzenie nie jest wyświetlaczem stanowiska',
    4404: `nie ma stanowiska ${counterId}`,
  }[code];
  setText($('problem-text'), `${what || 'odmowa serwera'} (${code}: ${reason || '—'}). Wyświetlacz ponawia próbę.`);
  $('problem').hidden = false;
}

function pair() {
  return pairScreen({
    kind: KIND,
    name: cfg.name || `Wyświetlacz stanowiska ${counterId}`,
    pairingEl: $('pairing'),
    codeEl: $('pairing-code'),
    expiresEl: $('pairing-expires'),
    clock,
  });
}

async function main() {
  if (!Number.isInteger(counterId) || counterId < 1) {
    $('starting').hidden = true;
    setText($('problem-text'), 'Adres wyświetlacza musi kończyć się numerem stanowiska, np. /display/counter/3.');
    $('problem').hidden = false;
    return;
  }
  const health = await clock.sync();
  versionWatch = new VersionWatch(health && health.pages);
  $('starting').hidden = true;
  token = await pair();
  try {
    const resp = await deviceFetch(token, '/api/v1/office');
    if (resp.ok) clock.setTimeZone((await resp.json()).time_zone);
  } catch {
    /* the office's time zone stays the default */
  }
  for (const el of document.querySelectorAll('.second')) {
    if (cfg.lang2 && !el.lang) el.lang = cfg.lang2;
  }
  const tick = () => setText($('clock'), clock.hhmm());
  tick();
  setInterval(tick, 1000);
  setInterval(() => clock.sync(), 15 * 60 * 1000);
  soundGate(ctx, $('sound'));
  live = new Live({
    channel: 'counter',
    hello: { counter: counterId },
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

globalThis.__kolejka = { cfg, state, announcer, player, clock, audio: ctx, live: null, counter: counterId };
main();
