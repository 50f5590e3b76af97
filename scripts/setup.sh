#!/usr/bin/env bash
# Idempotent setup for the local stack: system packages, the Python venv and
# the Toxiproxy server. Fast when everything is already in place.
#
#   scripts/setup.sh                the local stack
#   scripts/setup.sh --containers   and the containers stack: a Docker engine
#                                   (Debian's docker.io, started when none
#                                   answers) and the stack's images
set -euo pipefail

CONTAINERS=0
for arg in "$@"; do
    case "$arg" in
        --containers) CONTAINERS=1 ;;
        *) echo "usage: scripts/setup.sh [--containers]" >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
export PATH="/usr/local/go/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
TOXIPROXY_VERSION="v2.12.0"
START=$(date +%s.%N)

step() { printf '[setup] %-10s %s\n' "$1" "$2"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Keep the packages' own system services from starting: we run our own
# instances (or our own dockerd). policy-rc.d answering 101 forbids invoke-rc.d.
apt_install() {
    local created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    step apt "installing $*"
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    if [ "$created_policy" -eq 1 ]; then
        as_root rm -f /usr/sbin/policy-rc.d
    fi
    step apt "installed $*"
}

# -- 1. system packages --------------------------------------------------------
missing=()
# chromium: the report test opens report.html in it (headless).
for pkg in redis-server rabbitmq-server postgresql chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
    step apt "redis-server rabbitmq-server postgresql chromium already installed"
else
    apt_install "${missing[@]}"
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

# -- 4. the containers stack (--containers) ---------------------------------------------
# A Docker engine, the image set for this machine, and the images themselves.
DOCKERD_LOG=/var/log/feedchaos-dockerd.log
ENGINE_ENV=.cache/containers/engine.env

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

# Start dockerd in the background, in a session of its own (it outlives this
# script, as a system service would, and Ctrl-C in this terminal does not
# reach it); wait until it answers. Called only when no engine answered, so a
# dockerd in the pidfile is the one started here.
DOCKERD_PIDFILE=/var/run/docker.pid
start_dockerd() {
    step docker "starting dockerd${*:+ $*} (log: $DOCKERD_LOG)"
    as_root setsid dockerd --pidfile "$DOCKERD_PIDFILE" "$@" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    local pid=""
    for _ in $(seq 1 60); do
        pid="$(cat "$DOCKERD_PIDFILE" 2>/dev/null || true)"
        engine_answers && { step docker "engine up (dockerd pid ${pid:-?})"; return 0; }
        sleep 1
    done
    if [ -n "$pid" ]; then
        as_root kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do as_root kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    return 1
}

# The Debian mirror apt uses here (deb822 sources first), for debootstrap.
debian_mirror() {
    if [ -n "${FEEDCHAOS_DEBIAN_MIRROR:-}" ]; then echo "$FEEDCHAOS_DEBIAN_MIRROR"; return; fi
    local found
    found="$(awk '/^URIs:/ {u = $2} /^Suites:/ && / bookworm( |$)/ && u {print u; exit}' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
    [ -n "$found" ] || found="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
    echo "${found:-http://deb.debian.org/debian}"
}

env_value() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

if [ "$CONTAINERS" -eq 1 ]; then
    command -v docker >/dev/null 2>&1 || apt_install docker.io
    if engine_answers; then
        step docker "engine answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
    else
        command -v dockerd >/dev/null 2>&1 || apt_install docker.io
        # Where the default bridge set-up fails (no iptables in a sandbox),
        # dockerd still runs without it: builds use the host's network and
        # the stack's own network needs no NAT.
        start_dockerd || start_dockerd --iptables=false --ip-masq=false || {
            echo "[setup] no Docker engine could be started; see $DOCKERD_LOG:" >&2
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            exit 1
        }
    fi

    # Which image set: `registry` (official images) where a registry answers,
    # `local` (built here on a debootstrapped base) where none does. Decided
    # once per clone (FEEDCHAOS_IMAGES=registry|local decides it again).
    if [ ! -f "$ENGINE_ENV" ] || [ -n "${FEEDCHAOS_IMAGES:-}" ]; then
        image_set="${FEEDCHAOS_IMAGES:-}"
        if [ -z "$image_set" ]; then
            probe="$(env_value FEEDCHAOS_IMAGE_TOXIPROXY images/registry.env)"
            if docker image inspect "$probe" >/dev/null 2>&1 ||
                timeout 120 docker pull -q "$probe" >/dev/null 2>&1; then
                image_set=registry
            else
                image_set=local
            fi
        fi
        mkdir -p "$(dirname "$ENGINE_ENV")"
        {
            echo "# scripts/setup.sh --containers, $(date -u '+%Y-%m-%d %H:%M') UTC"
            echo "FEEDCHAOS_IMAGES=$image_set"
            # No registry, no Ryuk image: the harness's own reaper cleans up.
            [ "$image_set" = local ] && echo "TESTCONTAINERS_RYUK_DISABLED=true"
            if [ -e /.dockerenv ]; then
                # Inside a container testcontainers would guess the bridge or
                # gateway address; the engine maps ports on this machine.
                echo "TESTCONTAINERS_CONNECTION_MODE=docker_host"
                case "${DOCKER_HOST:-unix://}" in
                    unix://*) echo "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1" ;;
                esac
            fi
        } >"$ENGINE_ENV.tmp"
        mv "$ENGINE_ENV.tmp" "$ENGINE_ENV"
        step images "image set: $image_set (written to $ENGINE_ENV)"
    fi
    image_set="$(env_value FEEDCHAOS_IMAGES "$ENGINE_ENV")"

    # The local set's base: Debian bookworm by debootstrap, then `docker import`.
    base="$(env_value FEEDCHAOS_BASE_IMAGE "images/$image_set.env")"
    if [ "$image_set" = local ] && ! docker image inspect "$base" >/dev/null 2>&1; then
        command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
        mirror="$(debian_mirror)"
        rootfs="$(mktemp -d /var/tmp/feedchaos-rootfs.XXXXXX)"
        trap 'as_root rm -rf "$rootfs"' EXIT
        step images "debootstrap bookworm from $mirror"
        as_root debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
            >.cache/containers/debootstrap.log 2>&1 || {
            tail -n 20 .cache/containers/debootstrap.log >&2
            exit 1
        }
        as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        as_root tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
        as_root rm -rf "$rootfs"
        trap - EXIT
        step images "base image $base imported"
    fi

    # Every image of the set: feedchaos/ ones built (layer cache), others pulled.
    .venv/bin/python -m harness.containers images
fi

END=$(date +%s.%N)
awk -v s="$START" -v e="$END" 'BEGIN { printf "[setup] done in %.1fs\n", e - s }'
