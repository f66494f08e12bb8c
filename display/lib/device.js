// Registered devices (kiosk, hall screen, counter display): pairing, the device token, and
// authenticated requests. Shared by the kiosk and display pages.
//
// A device without a token asks to pair and shows the 6-digit code returned by the server
// until a manager approves it (or, on the demo's loopback setting, gets its token at once).
// The token is kept in localStorage; a 401 means it was revoked, and the device pairs again.

const KEY = 'kolejka.device.';

export class DeviceRevoked extends Error {}

export function storedToken(kind) {
  try {
    return localStorage.getItem(KEY + kind);
  } catch {
    return null;
  }
}

export function forgetDevice(kind) {
  try {
    localStorage.removeItem(KEY + kind);
  } catch {
    /* storage unavailable: nothing to forget */
  }
}

function remember(kind, token) {
  try {
    localStorage.setItem(KEY + kind, token);
  } catch {
    /* storage unavailable: the token lives as long as the page */
  }
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** fetch with the device's token; throws DeviceRevoked on 401. */
export async function deviceFetch(token, path, options = {}) {
  const headers = { ...(options.headers || {}), authorization: `Bearer ${token}` };
  if (options.body !== undefined && typeof options.body !== 'string') {
    headers['content-type'] = 'application/json';
    options = { ...options, body: JSON.stringify(options.body) };
  }
  const resp = await fetch(path, { ...options, headers, cache: 'no-store' });
  if (resp.status === 401) throw new DeviceRevoked('the device token was refused');
  return resp;
}

/**
 * Resolves with a working token for this device, pairing if needed. `onPairingCode(code,
 * expiresAt)` is called whenever a new code should be shown. Network errors are retried with a
 * growing delay (the server may be restarting); they never reject.
 */
export async function ensureDevice({ kind, name, onPairingCode = () => {} }) {
  let token = storedToken(kind);
  let delay = 1000;
  for (;;) {
    try {
      if (token) {
        const resp = await deviceFetch(token, '/api/v1/office');
        if (resp.ok) return token;
        // Any other answer: the server is unwell; keep the token and try again.
        await sleep(delay);
      } else {
        token = await pair(kind, name, onPairingCode);
        remember(kind, token);
        return token;
      }
    } catch (e) {
      if (e instanceof DeviceRevoked) {
        forgetDevice(kind);
        token = null;
        continue;
      }
      await sleep(delay);
    }
    delay = Math.min(delay * 2, 30000);
  }
}

async function pair(kind, name, onPairingCode) {
  for (;;) {
    const resp = await fetch('/api/v1/devices/pair', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(name ? { kind, name } : { kind }),
      cache: 'no-store',
    });
    if (resp.status === 429) {
      await sleep(60000);
      continue;
    }
    if (!resp.ok) throw new Error(`pairing refused: ${resp.status}`);
    const p = await resp.json();
    if (p.token) return p.token;
    onPairingCode(p.pairing_code, p.code_expires_at);
    // Poll until a manager approves the code; a 404 means the code expired: ask for a new one.
    for (;;) {
      await sleep(3000);
      const poll = await fetch(`/api/v1/devices/pair/${p.device_id}`, {
        headers: { authorization: `Bearer ${p.poll_token}` },
        cache: 'no-store',
      });
      if (poll.status === 404) break;
      if (!poll.ok) continue;
      const s = await poll.json();
      if (s.status === 'approved' && s.token) return s.token;
      if (s.status === 'revoked') break;
    }
  }
}
