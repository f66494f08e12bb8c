"""Schemathesis hooks for kolejka (loaded through SCHEMATHESIS_HOOKS by fuzz.py).

`no_change_on_rejection`: a request the server refused (4xx) must leave the state as it was.
Before every call the state is read through a separate admin session (the observer, which the
fuzzer never uses): the queue's version (`/healthz`), the users, the devices and the hall
messages. After a 4xx it is read again and must be the same. Fields that change on every
authenticated request (when a device or session was last seen) are left out.
"""

import atexit
import json
import os
import sys

import requests
import schemathesis

BASE = os.environ["KOLEJKA_FUZZ_BASE"]
OBSERVER = {
    "Cookie": os.environ["KOLEJKA_FUZZ_OBSERVER_COOKIE"],
    "X-CSRF-Token": os.environ["KOLEJKA_FUZZ_OBSERVER_CSRF"],
}
VOLATILE = ("last_seen", "last_used", "last_activity")

_before = {}
_compared = [0]


@atexit.register
def _report():
    print(f"no_change_on_rejection: {_compared[0]} refused requests compared", file=sys.stderr)


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith(VOLATILE)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def state():
    """What a rejected request must not change, as one comparable string."""
    parts = [requests.get(f"{BASE}/healthz", timeout=10).json().get("version")]
    for path in ("/api/v1/users", "/api/v1/devices", "/api/v1/messages"):
        resp = requests.get(f"{BASE}{path}", headers=OBSERVER, timeout=10)
        parts.append([path, resp.status_code, _strip(resp.json()) if resp.ok else None])
    return json.dumps(parts, sort_keys=True)


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _before[id(case)] = state()


@schemathesis.check
def no_change_on_rejection(ctx, response, case):
    before = _before.pop(id(case), None)
    if before is None or not 400 <= response.status_code < 500:
        return None
    after = state()
    _compared[0] += 1
    if after != before:
        raise AssertionError(
            f"a refused request ({response.status_code}) changed the state:\n"
            f"before: {before}\nafter:  {after}"
        )
    return None
