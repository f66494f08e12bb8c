// A ticket on the citizen's phone, opened from the QR code on the ticket (`/t/<code>`): the
// number, people ahead and the estimated wait, updated every few seconds; when the ticket is
// called, which counter (and a vibration where the phone allows); then that it is done.
// It asks only `GET /api/v1/public/ticket/<code>`, which tells nothing about other tickets.

import { waitWords, words } from '/kiosk/i18n.js';

const POLL_MS = 4000;
const MAX_BACKOFF_MS = 20000;
const FINAL = ['done', 'no_show', 'cancelled'];

const $ = (id) => document.getElementById(id);
const code = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');

let last = null;
let failures = 0;

function setLang(lang) {
  document.documentElement.lang = ['pl', 'uk', 'en'].includes(lang) ? lang : 'pl';
}

function render(t) {
  const lang = t.lang;
  const w = words(lang);
  setLang(lang);
  document.title = `${w.phoneTitle} ${t.number}`;
  $('office').textContent = t.office;
  $('label').textContent = w.phoneTitle;
  $('number').textContent = t.number;
  $('case').textContent = t.case_type;

  const stateText = {
    waiting: w.stateWaiting,
    called: w.stateCalled,
    serving: w.stateServing,
    done: w.stateDone,
    no_show: w.stateNoShow,
    parked: w.stateParked,
    cancelled: w.stateCancelled,
  }[t.state] || '';
  $('state-text').textContent = stateText;
  const main = $('main');
  main.dataset.state = t.state;

  const counter = $('counter');
  if (t.counter && (t.state === 'called' || t.state === 'serving')) {
    counter.hidden = false;
    counter.textContent = t.counter.location
      ? `${t.counter.name} (${t.counter.location})`
      : t.counter.name;
  } else {
    counter.hidden = true;
    counter.textContent = '';
  }

  const waiting = t.state === 'waiting';
  $('details').hidden = !waiting;
  if (waiting) {
    $('ahead').textContent = w.ahead(t.people_ahead ?? 0);
    $('wait').textContent = w.estimated(waitWords(lang, t.estimated_wait_min, { short: true }));
  }

  const time = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date());
  $('updated').textContent = w.updated(time);

  // Called now, or called again: buzz where the phone allows it.
  const calledNow = t.state === 'called' && (!last || last.state !== 'called' || last.calls !== t.calls);
  if (calledNow && last) {
    try {
      if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
    } catch {
      /* not allowed: the page says it */
    }
  }
  last = t;
}

function showInvalid() {
  // The link's language is unknown: say it in all three.
  setLang('pl');
  $('number').textContent = '—';
  $('label').textContent = words('pl').phoneTitle;
  $('state-text').textContent = ['pl', 'uk', 'en'].map((l) => words(l).invalidLink).join(' / ');
  $('details').hidden = true;
  $('counter').hidden = true;
  $('main').dataset.state = 'invalid';
}

async function poll() {
  let delay = POLL_MS;
  try {
    const resp = await fetch(`/api/v1/public/ticket/${encodeURIComponent(code)}`, { cache: 'no-store' });
    if (resp.status === 404) {
      showInvalid();
      return;
    }
    if (!resp.ok) throw new Error(`status ${resp.status}`);
    const t = await resp.json();
    failures = 0;
    $('conn').hidden = true;
    render(t);
    if (FINAL.includes(t.state)) return;
  } catch {
    failures += 1;
    delay = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** Math.min(failures, 3));
    const conn = $('conn');
    conn.textContent = words(last ? last.lang : 'pl').phoneOffline;
    conn.hidden = false;
  }
  setTimeout(poll, delay);
}

// A phone that wakes up shows the news at once.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && last && !FINAL.includes(last.state)) poll();
});

poll();
