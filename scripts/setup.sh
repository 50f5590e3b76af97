#!/usr/bin/env bash
# Idempotent setup for the local stack: system packages, the Python venv and
# the Toxiproxy server. Fast when everything is already in place.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
export PATH="/usr/local/go/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
TOXIPROXY_VERSION="v2.12.0"
START=$(date +%s.%N)

step() { printf '[setup] %-10s %s\n' "$1" "$2"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# -- 1. system packages --------------------------------------------------------
missing=()
# chromium: the report test opens report.html in it (headless).
for pkg in redis-server rabbitmq-server postgresql chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
    step apt "redis-server rabbitmq-server postgresql chromium already installed"
else
    # Keep the packages' own system services from starting: we run our own
    # instances on free ports. policy-rc.d answering 101 forbids invoke-rc.d.
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    step apt "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ "$created_policy" -eq 1 ]; then
        as_root rm -f /usr/sbin/policy-rc.d
    fi
    step apt "installed ${missing[*]}"
fi

# -- 2. Python venv ------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    step venv "creating .venv"
    python3 -m venv .venv
fi
want_hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
have_hash="$(cat .venv/.feedchaos-installed 2>/dev/null || true)"
if [ "$want_hash" = "$have_hash" ]; then
    step python "dependencies up to date (pyproject.toml unchanged)"
else
    step python "pip install -e .[dev]"
    .venv/bin/python -m pip install -q -e ".[dev]"
    echo "$want_hash" >.venv/.feedchaos-installed
    step python "installed"
fi

# -- 3. Toxiproxy server -----------------------------------------------------------
if command -v toxiproxy-server >/dev/null 2>&1; then
    step toxiproxy "on PATH: $(command -v toxiproxy-server)"
elif [ -x bin/toxiproxy-server ]; then
    step toxiproxy "present: bin/toxiproxy-server"
else
    command -v go >/dev/null 2>&1 || { echo "[setup] Go >= 1.23 is needed to build Toxiproxy" >&2; exit 1; }
    step toxiproxy "building $TOXIPROXY_VERSION with $(go version | cut -d' ' -f3)"
    mkdir -p bin
    GOBIN="$REPO/bin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
    mv bin/server bin/toxiproxy-server
    step toxiproxy "built bin/toxiproxy-server"
fi

END=$(date +%s.%N)
awk -v s="$START" -v e="$END" 'BEGIN { printf "[setup] done in %.1fs\n", e - s }'
