// What the clerk panel and the manager console share: the API client (session cookie + CSRF
// token, a time limit on every request, and "network error" kept apart from "the server said
// no"), the sign-in form, a DOM builder (no innerHTML: every text is set as text), the screen
// reader announcer, and Polish names and formats.

/** The server could not be reached (or did not answer in time): the outcome is unknown. */
export class NetworkError extends Error {}

/** How long a request may take before it counts as lost. */
const TIMEOUT_MS = 10000;

/** The offset of the server's clock from ours (ms), from the `Date` header of its answers. */
let skewMs = 0;

/** Now, by the server's clock (to within a second): for running timers. */
export function serverNow() {
  return Date.now() + skewMs;
}

export const api = {
  /** The session's CSRF token, sent with every change. */
  csrf: null,
  /** Called on a 401: the session ended. */
  onSignedOut: null,

  /**
   * Sends a request. Resolves with `{ status, data, headers }` for any answer of the server
   * (2xx or not); throws `NetworkError` when there is none.
   * @param {string} method
   * @param {string} path
   * @param {object} [body]
   * @param {{ key?: string }} [opts]  key: an Idempotency-Key
   */
  async request(method, path, body, opts = {}) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    if (opts.key) headers['idempotency-key'] = opts.key;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), opts.timeoutMs || TIMEOUT_MS);
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        signal: ctl.signal,
      });
    } catch (e) {
      throw new NetworkError(e && e.name === 'AbortError' ? 'timeout' : 'network');
    } finally {
      clearTimeout(timer);
    }
    const date = Date.parse(resp.headers.get('date') || '');
    if (!Number.isNaN(date)) skewMs = date - Date.now();
    let data = null;
    try {
      const text = await resp.text();
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      if (e instanceof SyntaxError) data = null;
      else throw new NetworkError('network');
    }
    if (resp.status === 401 && path !== '/api/v1/auth/login' && this.onSignedOut) {
      this.onSignedOut();
    }
    return { status: resp.status, data, headers: resp.headers };
  },

  /** Like `request`, but throws `ApiRefusal` unless the answer is 2xx. */
  async ok(method, path, body, opts) {
    const r = await this.request(method, path, body, opts);
    if (r.status < 200 || r.status >= 300) throw new ApiRefusal(r.status, r.data);
    return r.data;
  },
};

/** The server answered, and said no. */
export class ApiRefusal extends Error {
  constructor(status, data) {
    super(refusalText(status, data));
    this.status = status;
    this.data = data;
  }
}

/** A refusal in Polish, with the server's own explanation after it. */
export function refusalText(status, data) {
  const why = {
    400: 'Nieprawidłowe żądanie',
    401: 'Sesja wygasła — zaloguj się ponownie',
    403: 'Brak uprawnień',
    404: 'Nie znaleziono',
    409: 'Odmowa — stan się nie zgadza',
    413: 'Za dużo danych',
    422: 'Nieprawidłowe dane',
    429: 'Za dużo prób — odczekaj chwilę',
    503: 'Serwer nie może teraz zapisać zmian — nic nie zmieniono, spróbuj ponownie',
  }[status] || `Błąd serwera (${status})`;
  const detail = data && typeof data === 'object' && data.message ? data.message : '';
  return detail ? `${why}: ${detail}` : why;
}

/** A fresh random key (works on plain http too, unlike crypto.randomUUID). */
export function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Builds an element. `attrs`: attributes, with `on*` functions as listeners, `text` as its
 * text, `hidden`/`disabled`/`checked` as booleans. Children: nodes or strings.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (['hidden', 'disabled', 'checked', 'required', 'selected'].includes(k)) el[k] = Boolean(v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function $(sel) {
  return document.querySelector(sel);
}

/** Says something to screen readers (polite: after what they are reading now). */
export function announce(text) {
  const el = document.getElementById('sr-status');
  if (!el) return;
  // A change of text is what gets read; clear first so the same text is read again.
  el.textContent = '';
  setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// ------------------------------------------------------------------ formats

/** Seconds as m:ss (or h:mm:ss). */
export function fmtClock(secs) {
  if (secs === null || secs === undefined || Number.isNaN(secs)) return '—';
  const s = Math.max(0, Math.floor(secs));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** Minutes as "12 min", null as "—". */
export function fmtMin(min) {
  return min === null || min === undefined ? '—' : `${min} min`;
}

/** Seconds as whole minutes, "12 min" ("< 1 min" under a minute). */
export function fmtWait(secs) {
  if (secs === null || secs === undefined) return '—';
  if (secs < 60) return '< 1 min';
  return `${Math.floor(secs / 60)} min`;
}

/** An RFC 3339 time as local HH:MM (and the date if not today). */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const now = new Date();
  const hm = d.toLocaleTimeString('pl-PL', { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return hm;
  return `${d.toLocaleDateString('pl-PL')} ${hm}`;
}

/** Seconds since an RFC 3339 time, by the server's clock. */
export function secondsSince(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.max(0, (serverNow() - t) / 1000);
}

export const COUNTER_STATUS = { open: 'Otwarte', paused: 'Przerwa', closed: 'Zamknięte' };

export const TICKET_STATE = {
  waiting: 'oczekuje',
  called: 'wezwany',
  serving: 'w obsłudze',
  done: 'załatwiony',
  no_show: 'nieobecny',
  parked: 'odłożony',
  cancelled: 'anulowany',
};

export const ROLE = { clerk: 'urzędnik', manager: 'kierownik', admin: 'administrator' };

export const NOT_ISSUING = {
  closed_today: 'urząd dziś nieczynny',
  not_yet_open: 'jeszcze nie wydaje',
  too_late: 'po godzinie wydawania',
  daily_cap_reached: 'wyczerpany dzienny limit',
  stopped_by_manager: 'wstrzymane przez kierownika',
};

/** The Polish text of a `{pl, uk, en}` object. */
export function pl(texts) {
  return texts && typeof texts === 'object' ? texts.pl : String(texts ?? '');
}

// ------------------------------------------------------------------ signing in

/** The signed-in user (`GET /api/v1/auth/me`), or null when nobody is. Throws NetworkError. */
export async function whoAmI() {
  const r = await api.request('GET', '/api/v1/auth/me');
  if (r.status === 200) {
    api.csrf = r.data.csrf_token;
    return r.data;
  }
  if (r.status === 401) return null;
  throw new ApiRefusal(r.status, r.data);
}

/**
 * Shows the sign-in form in `container`; calls `onSignedIn(me)` after a successful sign-in.
 * @param {HTMLElement} container
 * @param {{ onSignedIn: (me: object) => void, message?: string, title?: string }} o
 */
export function showSignIn(container, o) {
  const error = h('div', { class: 'notice error', role: 'alert', hidden: true });
  const user = h('input', { id: 'signin-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: 'signin-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', text: 'Zaloguj się' });
  const form = h(
    'form',
    { class: 'signin card', 'aria-labelledby': 'signin-h', novalidate: true },
    h('h2', { id: 'signin-h', text: o.title || 'Logowanie' }),
    o.message ? h('p', { class: 'notice', text: o.message }) : null,
    error,
    h('div', { class: 'field' }, h('label', { for: 'signin-user', text: 'Nazwa użytkownika' }), user),
    h('div', { class: 'field' }, h('label', { for: 'signin-pass', text: 'Hasło' }), pass),
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!user.value.trim() || !pass.value) {
      error.textContent = 'Podaj nazwę użytkownika i hasło.';
      error.hidden = false;
      (user.value.trim() ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    try {
      const r = await api.request('POST', '/api/v1/auth/login', { username: user.value.trim(), password: pass.value });
      if (r.status === 200) {
        api.csrf = r.data.csrf_token;
        const me = await whoAmI();
        if (me) {
          o.onSignedIn(me);
          return;
        }
        error.textContent = 'Nie udało się zalogować (sesja nie powstała). Czy przeglądarka przyjmuje ciasteczka?';
      } else if (r.status === 401) {
        error.textContent = 'Nieprawidłowa nazwa użytkownika lub hasło.';
      } else {
        error.textContent = refusalText(r.status, r.data);
      }
    } catch (e) {
      error.textContent = 'Brak połączenia z serwerem. Spróbuj ponownie za chwilę.';
    } finally {
      submit.disabled = false;
    }
    error.hidden = false;
    pass.value = '';
    pass.focus();
  });
  fill(container, form);
  user.focus();
}

/** Signs out (ending the session on the server; it closes a counter with no ticket at it). */
export async function signOut() {
  try {
    await api.request('POST', '/api/v1/auth/logout');
  } catch {
    /* the session ends by itself; the page forgets it anyway */
  }
  api.csrf = null;
}
