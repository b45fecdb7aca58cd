#!/usr/bin/env bash
# Contract tests (titanoboa + hypothesis) in their own venv, contracts/.venv, built from the lock.
# Idempotent: the venv is (re)synced only when contracts/requirements.txt changed (stamp = its sha256).
# Extra arguments go to pytest (paths under contracts/ replace the default contracts/tests). HYPOTHESIS_PROFILE defaults to "ci" (200 examples x 50 steps).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=contracts/.venv
LOCK=contracts/requirements.txt
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$LOCK" | cut -d' ' -f1)"

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "contracts/test.sh: syncing $VENV from $LOCK"
    if command -v uv >/dev/null 2>&1; then
        [ -x "$VENV/bin/python" ] || uv venv -q "$VENV" --python 3.11
        uv pip sync -q --python "$VENV/bin/python" "$LOCK"
    else
        [ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q -r "$LOCK"
    fi
    echo "$want" > "$STAMP"
fi

export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# Run the whole suite unless a path under contracts/ is given (e.g. contracts/tests/test_vault.py).
case " $* " in
    *" contracts/"*) ;;
    *) set -- contracts/tests "$@" ;;
esac
exec "$VENV/bin/python" -m pytest -c contracts/pytest.ini --rootdir contracts "$@"
