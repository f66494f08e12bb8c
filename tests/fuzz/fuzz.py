"""Runs schemathesis against a real kolejka server (started here, on loopback, with a
temporary database) and fails on a 500, a panic in the server's log, or a refused request that
changed the state (hooks.py). Called by tests/fuzz/run.sh inside the venv.

Two runs: every operation as the first-start admin (session cookie and CSRF token), then the
kiosk's operations with a paired kiosk's token. Bounded by KOLEJKA_FUZZ_EXAMPLES per operation.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))


def start(binary, folder):
    log = open(os.path.join(folder, "server.log"), "w+")
    proc = subprocess.Popen(
        [binary, "serve", "--db", os.path.join(folder, "kolejka.db"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "RUST_LOG": "info"},
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        log.seek(0)
        found = re.search(r"listening on http://(\S+)", log.read())
        if found:
            return proc, log, "http://" + found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    log.seek(0)
    sys.exit(f"fuzz: kolejka did not start:\n{log.read()}")


def sign_in(base, name, password):
    resp = requests.post(f"{base}/api/v1/auth/login", json={"username": name, "password": password})
    resp.raise_for_status()
    cookie = resp.headers["set-cookie"].split(";")[0]
    return cookie, resp.json()["csrf_token"]


def schemathesis(base, headers, extra):
    examples = os.environ.get("KOLEJKA_FUZZ_EXAMPLES", "8")
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "schemathesis"),
        "run",
        f"{base}/api/openapi.json",
        "--checks", "not_a_server_error,no_change_on_rejection",
        "--max-examples", examples,
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",
        "--request-timeout", "10",
        "--seed", os.environ.get("KOLEJKA_FUZZ_SEED", "9"),
        "--suppress-health-check", "all",
        "--warnings", "off",
        # Signing out would end the fuzzer's own session and leave the rest untested.
        "--exclude-path", "/api/v1/auth/logout",
    ]
    for name, value in headers.items():
        cmd += ["--header", f"{name}: {value}"]
    cmd += extra
    print("fuzz:", " ".join(c if "Cookie" not in c and "Bearer" not in c and "CSRF" not in c else "<secret>" for c in cmd), flush=True)
    return subprocess.call(cmd, env={**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": HERE})


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/kolejka")
    with tempfile.TemporaryDirectory() as folder:
        proc, log, base = start(binary, folder)
        try:
            password = open(os.path.join(folder, "admin-password.txt")).read().strip()
            cookie, csrf = sign_in(base, "admin", password)
            admin = {"Cookie": cookie, "X-CSRF-Token": csrf}
            resp = requests.post(
                f"{base}/api/v1/users",
                headers=admin,
                json={"name": "observer", "role": "admin", "password": "observer-fuzz-password"},
            )
            resp.raise_for_status()
            ocookie, ocsrf = sign_in(base, "observer", "observer-fuzz-password")
            os.environ.update(
                KOLEJKA_FUZZ_BASE=base,
                KOLEJKA_FUZZ_OBSERVER_COOKIE=ocookie,
                KOLEJKA_FUZZ_OBSERVER_CSRF=ocsrf,
            )
            pair = requests.post(f"{base}/api/v1/devices/pair", json={"kind": "kiosk", "name": "fuzz-kiosk"})
            pair.raise_for_status()
            kiosk = pair.json()["token"]
            # Someone at a counter, so that the counter actions meet a state they can act on.
            requests.post(f"{base}/api/v1/counters/1/open", headers=admin, json={}).raise_for_status()

            failed = schemathesis(base, admin, [])
            failed |= schemathesis(
                base, {"Authorization": f"Bearer {kiosk}"}, ["--include-tag", "kiosk"]
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.seek(0)
        text = log.read()
        panics = [line for line in text.splitlines() if "panicked" in line]
        if panics:
            print("fuzz: the server panicked:\n" + "\n".join(panics), file=sys.stderr)
            failed = 1
        if proc.returncode != 0:
            print(f"fuzz: the server exited with {proc.returncode}:\n{text[-3000:]}", file=sys.stderr)
            failed = 1
    print("fuzz: " + ("FAILED" if failed else "passed: no 500, no panic, no change on a refused request"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
