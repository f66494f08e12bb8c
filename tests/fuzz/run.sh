#!/usr/bin/env bash
# HTTP fuzzing of the OpenAPI document with schemathesis: no 500, no panic, and no change of
# state on a rejected request. Installs schemathesis (tests/fuzz/requirements.txt) from PyPI
# into a venv under target/ on first use and fails loudly if it cannot.
#
#   tests/fuzz/run.sh [path/to/kolejka]      (default: target/debug/kolejka)
#
# The server runs on a loopback port with a temporary database; fuzz.py signs in, pairs a
# kiosk and runs schemathesis against http://127.0.0.1:PORT/api/openapi.json, bounded in
# examples per operation (KOLEJKA_FUZZ_EXAMPLES, default 8).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${1:-target/debug/kolejka}"
VENV=target/fuzz-venv
WANT=$(sed -n 's/^schemathesis==//p' tests/fuzz/requirements.txt)
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$WANT"; then
  echo "tests/fuzz/run.sh: installing schemathesis $WANT into $VENV" >&2
  python3 -m venv "$VENV" || {
    echo "tests/fuzz/run.sh: cannot create a Python venv (Debian: apt-get install python3-venv)" >&2
    exit 1
  }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt || {
    echo "tests/fuzz/run.sh: cannot install schemathesis from PyPI" >&2
    exit 1
  }
fi
exec "$VENV/bin/python" tests/fuzz/fuzz.py "$BIN"
