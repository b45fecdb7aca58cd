#!/usr/bin/env bash
# Install what the project needs on a fresh machine; fast no-op when everything is in place.
# Usage: scripts/bootstrap.sh [--browser]   (--browser adds Chromium for the browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."
want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

say() { printf '[bootstrap] %s\n' "$*"; }

# --- Debian packages: only what is missing ------------------------------------------------
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
# the engine's compiled build (scripts/build_engine.py) needs a C compiler and Python's headers
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || missing+=(python3-dev)
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python: the app's venv from the lock files ---------------------------------------------
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
py_stamp=$(stamp_of requirements/base.txt requirements/dev.txt)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.stamp 2>/dev/null)" != "$py_stamp" ]; then
  say "installing Python packages into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  uv=$(command -v uv || true)
  if [ -z "$uv" ]; then
    # uv installs the lock in seconds; pip only bootstraps it into the venv.
    if [ ! -x .venv/bin/uv ]; then
      .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip -q
      .venv/bin/python -m pip install -q uv
    fi
    uv=.venv/bin/uv
  fi
  "$uv" pip install -q --python .venv/bin/python -r requirements/base.txt -r requirements/dev.txt
  echo "$py_stamp" > .venv/.stamp
fi

# --- npm: anvil and htmx --------------------------------------------------------------------
npm_stamp=$(stamp_of package.json package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.stamp 2>/dev/null)" != "$npm_stamp" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > node_modules/.stamp
fi
