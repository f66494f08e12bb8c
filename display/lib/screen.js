// What the hall screen and the counter display share: the per-screen settings from the URL,
// pairing on screen, the server's clock, quiet hours, the "tap to enable sound" gate, and
// reloading after an upgrade.

import { ensureDevice } from './device.js';

/** Reads the screen's settings from the URL (documented in docs/INSTALL.md). */
export function settings(search = location.search) {
  const q = new URLSearchParams(search);
  const list = (name) =>
    (q.get(name) || '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const num = (name, def, min, max) => {
    const v = Number(q.get(name));
    return q.has(name) && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : def;
  };
  const flag = (name, def) => (q.has(name) ? !['0', 'false', 'no', 'off'].includes(q.get(name)) : def);
  const lang2 = q.get('lang2');
  return {
    caseTypes: list('case_types'),
    counters: list('counters')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0),
    queues: flag('queues', true),
    wait: flag('wait', true),
    history: Math.round(num('history', 8, 3, 10)),
    lang2: ['uk', 'en'].includes(lang2) ? lang2 : null,
    volume: num('volume', 1, 0, 1),
    sound: flag('sound', true),
    quiet: parseQuiet(q.get('quiet')),
    highlightS: num('highlight', 10, 2, 60),
    slideS: num('slide', 12, 4, 120),
    name: (q.get('name') || '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, 60),
  };
}

/** "20:00-07:00" → { from: 1200, to: 420 } (minutes of the day), or null. */
export function parseQuiet(s) {
  const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec((s || '').trim());
  if (!m) return null;
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  if (from >= 1440 || to >= 1440 || from === to) return null;
  return { from, to };
}

/** True when `minutes` (of the local day) is inside the quiet window (it may wrap midnight). */
export function inQuiet(quiet, minutes) {
  if (!quiet) return false;
  return quiet.from < quiet.to
    ? minutes >= quiet.from && minutes < quiet.to
    : minutes >= quiet.from || minutes < quiet.to;
}

/**
 * The server's clock, as the Date header of /healthz tells it, so that a TV with a wrong clock
 * still shows the office's time and judges which calls are recent.
 */
export class ServerClock {
  constructor() {
    this.offsetMs = 0;
    this.timeZone = 'Europe/Warsaw';
    this.fmt = null;
  }

  now() {
    return Date.now() + this.offsetMs;
  }

  /** Fetches /healthz; returns its JSON (or null) and adjusts the clock from its Date header. */
  async sync() {
    try {
      const t0 = Date.now();
      const resp = await fetch('/healthz', { cache: 'no-store' });
      const t1 = Date.now();
      const date = Date.parse(resp.headers.get('date') || '');
      // The header has whole seconds: only correct a clock that is clearly off.
      if (Number.isFinite(date)) {
        const offset = date + 500 - (t0 + t1) / 2;
        this.offsetMs = Math.abs(offset) > 2000 ? offset : 0;
      }
      return await resp.json();
    } catch {
      return null;
    }
  }

  setTimeZone(tz) {
    try {
      this.fmt = new Intl.DateTimeFormat('pl-PL', {
        timeZone: tz,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      this.timeZone = tz;
    } catch {
      /* unknown zone: keep the previous one */
    }
  }

  /** "09:41" in the office's time zone. */
  hhmm(ms = this.now()) {
    if (!this.fmt) this.setTimeZone(this.timeZone);
    return this.fmt.format(new Date(ms));
  }

  /** Minutes since local midnight in the office's time zone. */
  minutes(ms = this.now()) {
    const [h, m] = this.hhmm(ms).split(':').map(Number);
    return h * 60 + m;
  }
}

/**
 * Reloads the page when the server's pages version (in /healthz) differs from the one this
 * page was loaded with, i.e. after an upgrade; only once the new page answers, so a screen
 * never reloads into an error.
 */
export class VersionWatch {
  constructor(initial) {
    this.version = initial || null;
    this.reloading = false;
  }

  async check(health) {
    if (!health || !health.pages || this.reloading) return;
    if (!this.version) {
      this.version = health.pages;
      return;
    }
    if (health.pages === this.version || health.status !== 'ok') return;
    try {
      const resp = await fetch(location.pathname + location.search, { cache: 'no-store' });
      if (!resp.ok) return;
    } catch {
      return;
    }
    this.reloading = true;
    location.reload();
  }
}

/**
 * Pairs the screen if it has no token, showing the code on `pairingEl` until a manager
 * approves it; resolves with the token.
 */
export function pairScreen({ kind, name, pairingEl, codeEl, expiresEl, clock }) {
  return ensureDevice({
    kind,
    name,
    onPairingCode(code, expiresAt) {
      const digits = String(code || '');
      codeEl.textContent = digits.length === 6 ? `${digits.slice(0, 3)} ${digits.slice(3)}` : digits;
      const until = Date.parse(expiresAt);
      expiresEl.textContent = Number.isFinite(until) ? clock.hhmm(until) : '';
      pairingEl.hidden = false;
    },
  }).then((token) => {
    pairingEl.hidden = true;
    return token;
  });
}

/**
 * An AudioContext, or null where the browser has none. 24 kHz is plenty for speech (the
 * segments are 24 kbit/s Opus) and halves the memory the decoded segments take.
 */
export function audioContext() {
  const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (!Ctx) return null;
  try {
    return new Ctx({ latencyHint: 'playback', sampleRate: 24000 });
  } catch {
    try {
      return new Ctx();
    } catch {
      return null;
    }
  }
}

/**
 * The browser's autoplay rule: without the kiosk flag, sound needs one tap (or key press).
 * Shows `button` while the AudioContext is suspended; a click resumes it.
 */
export function soundGate(ctx, button, onEnabled = () => {}) {
  if (!ctx) return;
  const update = () => {
    button.hidden = ctx.state === 'running';
    if (ctx.state === 'running') onEnabled();
  };
  button.addEventListener('click', async () => {
    try {
      await ctx.resume();
    } catch {
      /* stays suspended: the button stays */
    }
    // Speech synthesis needs the same one-time activation: speak nothing now.
    try {
      if (globalThis.speechSynthesis && typeof SpeechSynthesisUtterance !== 'undefined') {
        speechSynthesis.speak(new SpeechSynthesisUtterance(''));
      }
    } catch {
      /* no speech synthesis */
    }
    update();
  });
  ctx.addEventListener('statechange', update);
  // In kiosk mode (autoplay allowed) this succeeds at once; elsewhere it waits for a gesture.
  ctx.resume().catch(() => {});
  setTimeout(update, 400);
}
