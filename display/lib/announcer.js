// Announcements: a queue that plays one announcement at a time (a chime, then "Numer A 12,
// stanowisko 3", then optionally the same in a second language), never two at once.
//
// The Announcer owns the order and the rules (quiet hours, a bounded queue, stale entries
// dropped); a player makes the sound. WebAudioPlayer strings the recorded segments together
// with Web Audio and falls back to the browser's speech synthesis for a part whose files
// cannot be loaded. Tests replace the player (window.__kolejkaPlayer, set before the page
// loads) and check the order and timing of what it was asked to play.

import { PAUSE, allSegmentUrls, phrase, speechLang } from './voice.js';

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Resolves with the promise's value, or after `ms` whatever happens (a player must not hang the queue). */
function bounded(promise, ms) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).catch(() => undefined),
    new Promise((ok) => {
      timer = setTimeout(ok, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class Announcer {
  /**
   * @param {object} o
   * @param {{play(plan: object): Promise<void>}} o.player
   * @param {string[]} [o.langs]  languages, in order: ['pl'] or ['pl', 'uk']
   * @param {number} [o.volume]  0..1
   * @param {() => boolean} [o.isQuiet]  true during the screen's quiet hours
   * @param {number} [o.maxPending]  the queue's bound; beyond it the oldest waiting entry goes
   * @param {number} [o.maxWaitMs]  an entry that waited longer than this is dropped unplayed
   * @param {number} [o.gapMs]  silence between two announcements
   * @param {number} [o.timeoutMs]  the longest one announcement may take
   */
  constructor(o) {
    this.o = {
      langs: ['pl'],
      volume: 1,
      isQuiet: () => false,
      maxPending: 8,
      maxWaitMs: 120000,
      gapMs: 500,
      timeoutMs: 30000,
      ...o,
    };
    this.pending = [];
    this.playing = null;
    this.nextId = 1;
    this.played = 0;
    this.dropped = 0;
  }

  /** Queues an announcement of a call or recall: { kind, number, counter }. */
  announce({ kind = 'call', number, counter }) {
    if (this.o.volume <= 0 || this.o.isQuiet()) return null;
    // The same number to the same counter already waiting: one announcement is enough.
    if (this.pending.some((p) => p.number === number && p.counter === counter)) return null;
    const plan = {
      id: this.nextId++,
      kind,
      number,
      counter,
      volume: this.o.volume,
      queuedAt: Date.now(),
      parts: this.o.langs.map((lang) => phrase(lang, number, counter)),
    };
    this.pending.push(plan);
    while (this.pending.length > this.o.maxPending) {
      this.pending.shift();
      this.dropped += 1;
    }
    this.pump();
    return plan;
  }

  /** Forgets everything waiting (e.g. a new day). What is playing finishes. */
  clear() {
    this.pending.length = 0;
  }

  async pump() {
    if (this.playing) return;
    while (this.pending.length > 0) {
      const plan = this.pending.shift();
      if (Date.now() - plan.queuedAt > this.o.maxWaitMs || this.o.isQuiet()) {
        this.dropped += 1;
        continue;
      }
      this.playing = plan;
      await bounded(this.o.player.play(plan), this.o.timeoutMs);
      this.played += 1;
      await sleep(this.o.gapMs);
      this.playing = null;
    }
  }
}

/**
 * Plays announcements through Web Audio from the recorded segments; a part whose files cannot
 * be loaded (or a browser without Web Audio) is spoken by speech synthesis instead.
 */
export class WebAudioPlayer {
  /** @param {{context: AudioContext|null, speech?: SpeechSynthesis|null}} o */
  constructor({ context, speech = globalThis.speechSynthesis || null }) {
    this.ctx = context;
    this.speech = speech;
    // Decoded segments by URL: a fixed set of ~200 short files (about 10 MB decoded at most).
    this.buffers = new Map();
    this.failed = new Set();
  }

  async load(url) {
    const have = this.buffers.get(url);
    if (have) return have;
    const resp = await fetch(url);
    if (!resp.ok) throw new Error(`${url}: ${resp.status}`);
    const data = await resp.arrayBuffer();
    const buf = await this.ctx.decodeAudioData(data);
    this.buffers.set(url, buf);
    return buf;
  }

  /** Loads every segment; resolves with the URLs that failed (an empty list when all decode). */
  async preloadAll() {
    const failed = [];
    for (const url of allSegmentUrls()) {
      try {
        await this.load(url);
      } catch {
        failed.push(url);
      }
    }
    return failed;
  }

  async play(plan) {
    const ctx = this.ctx;
    const usable = ctx && ctx.state === 'running';
    if (usable) {
      try {
        await this.playBuffers([await this.load('/display/audio/chime.ogg')], plan.volume);
      } catch {
        /* no chime: the voice still comes */
      }
    }
    for (const part of plan.parts) {
      let buffers = null;
      if (usable && part.segments) {
        try {
          buffers = await Promise.all(part.segments.map((s) => (s === PAUSE ? null : this.load(s))));
        } catch {
          buffers = null;
        }
      }
      if (buffers) {
        await this.playBuffers(buffers, plan.volume);
      } else {
        await this.speak(part, plan.volume);
      }
      await sleep(400);
    }
  }

  /** Plays buffers back to back (null: a short pause); resolves when the last one ends. */
  playBuffers(buffers, volume) {
    const ctx = this.ctx;
    const gain = ctx.createGain();
    gain.gain.value = Math.max(0, Math.min(1, volume));
    gain.connect(ctx.destination);
    let t = ctx.currentTime + 0.05;
    for (const b of buffers) {
      if (!b) {
        t += 0.25;
        continue;
      }
      const src = ctx.createBufferSource();
      src.buffer = b;
      src.connect(gain);
      src.start(t);
      t += b.duration;
    }
    const ms = (t - ctx.currentTime) * 1000 + 30;
    return sleep(ms).then(() => gain.disconnect());
  }

  /** Speech synthesis: the fallback. Resolves when spoken, or after 15 s at the latest. */
  speak(part, volume) {
    const speech = this.speech;
    if (!speech || typeof SpeechSynthesisUtterance === 'undefined') return Promise.resolve();
    return new Promise((ok) => {
      const u = new SpeechSynthesisUtterance(part.text);
      u.lang = speechLang(part.lang);
      u.volume = Math.max(0, Math.min(1, volume));
      u.rate = 0.9;
      const timer = setTimeout(ok, 15000);
      u.onend = u.onerror = () => {
        clearTimeout(timer);
        ok();
      };
      speech.speak(u);
    });
  }
}
