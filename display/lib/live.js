// The live connection to the queue (/ws, see docs/PROTOCOL.md), for pages that must keep
// working through network blips and server restarts: hall screens, counter displays, kiosks,
// clerk and manager pages.
//
// - Reconnects after every close or error with exponential backoff and jitter (1 s … 30 s).
// - Every (re)connect starts with a snapshot that replaces the page's state; a gap in `seq`
//   asks for a fresh one (`resync`).
// - Reports "offline" only after `offlineAfterMs` without a connection, so a blip shows nothing.
// - Probes /healthz every `probeMs`: a socket that silently died (Wi-Fi dropped without a
//   close) is replaced, and `onHealth` sees the server's answer (e.g. to notice an upgrade).

export class Live {
  /**
   * @param {object} o
   * @param {string} o.channel  hall | counter | clerk | manager
   * @param {object} [o.hello]  extra hello fields: counter, case_types, counters
   * @param {() => (string|null)} [o.token]  the device token, if a device (read at each connect)
   * @param {(snapshot: object) => void} o.onSnapshot
   * @param {(message: object) => void} o.onMessage  every message after a snapshot
   * @param {(online: boolean) => void} [o.onStatus]
   * @param {(code: number, reason: string) => void} [o.onRefused]  4401/4403/4404/4400 closes
   * @param {(health: object) => void} [o.onHealth]
   */
  constructor(o) {
    this.o = { offlineAfterMs: 4000, probeMs: 30000, maxDelayMs: 30000, ...o };
    this.ws = null;
    this.lastSeq = 0;
    this.attempt = 0;
    this.online = null;
    this.offlineTimer = null;
    this.retryTimer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
    this.probeTimer = setInterval(() => this.probe(), this.o.probeMs);
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.probeTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.offlineTimer);
    if (this.ws) this.ws.close(1000, 'page closed');
  }

  /** Asks for a fresh snapshot (at most one a second, by the server's rule). */
  resync() {
    this.send({ type: 'resync' });
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/ws`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.lastSeq = 0;
    ws.onopen = () => {
      const hello = { type: 'hello', channel: this.o.channel, ...(this.o.hello || {}) };
      const token = this.o.token ? this.o.token() : null;
      if (token) hello.token = token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === 'snapshot') {
        this.lastSeq = msg.seq;
        this.attempt = 0;
        this.setOnline(true);
        this.o.onSnapshot(msg);
        return;
      }
      if (typeof msg.seq === 'number' && msg.seq !== this.lastSeq + 1) {
        this.lastSeq = msg.seq;
        this.resync();
        return;
      }
      this.lastSeq = msg.seq;
      this.o.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setOnline(false);
      if ([4400, 4401, 4403, 4404].includes(ev.code) && this.o.onRefused) {
        this.o.onRefused(ev.code, ev.reason);
      }
      this.scheduleReconnect(ev.code);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  scheduleReconnect(code) {
    if (this.stopped) return;
    this.attempt += 1;
    // Refusals (bad config, revoked device) retry slowly; everything else backs off from 1 s.
    const base = [4400, 4403, 4404].includes(code)
      ? this.o.maxDelayMs
      : Math.min(this.o.maxDelayMs, 1000 * 2 ** Math.min(this.attempt - 1, 5));
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  setOnline(online) {
    if (online) {
      clearTimeout(this.offlineTimer);
      this.offlineTimer = null;
      if (this.online !== true) {
        this.online = true;
        if (this.o.onStatus) this.o.onStatus(true);
      }
    } else if (this.online !== false && !this.offlineTimer) {
      this.offlineTimer = setTimeout(() => {
        this.offlineTimer = null;
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
          this.online = false;
          if (this.o.onStatus) this.o.onStatus(false);
        }
      }, this.o.offlineAfterMs);
    }
  }

  async probe() {
    if (this.stopped) return;
    try {
      const ctl = new AbortController();
      const t = setTimeout(() => ctl.abort(), 5000);
      const resp = await fetch('/healthz', { cache: 'no-store', signal: ctl.signal });
      clearTimeout(t);
      const health = await resp.json();
      if (this.o.onHealth) this.o.onHealth(health);
      // The server answers but our socket is gone or stuck: reconnect now.
      if (!this.ws || this.ws.readyState === WebSocket.CLOSED) this.connect();
    } catch {
      // The server is unreachable: a socket that still looks open is stale.
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.close(4000, 'probe failed');
    }
  }
}
