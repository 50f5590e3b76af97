"""Settings of the containers stack, as data: image names and engine variables.

Layers, the later one wins:

1. ``images/registry.env``: the defaults, for a Docker host that reaches the
   registries (official images at pinned versions, the SUT built here);
2. ``images/<set>.env`` when FEEDCHAOS_IMAGES names another set, e.g.
   ``local`` (every image built here on a debootstrapped Debian base);
3. ``.cache/containers/engine.env``: what ``scripts/setup.sh --containers``
   found on this machine (the image set; Ryuk off where it cannot be pulled;
   the testcontainers connection mode inside a container);
4. the process environment.

A name under ``feedchaos/`` is built from ``images/<role>.Dockerfile`` with the
base image as its ``BASE`` argument; any other name is pulled. So switching
between official and local images changes configuration, not code.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = REPO_ROOT / "images"
CACHE_DIR = REPO_ROOT / ".cache" / "containers"
DEFAULTS_FILE = IMAGES_DIR / "registry.env"
ENGINE_FILE = CACHE_DIR / "engine.env"

ROLES = ("toxiproxy", "redis", "rabbitmq", "postgres", "sut")
BUILT_PREFIX = "feedchaos/"
# Only these reach the process environment from engine.env (testcontainers
# reads them at import time); the image names stay in our own settings.
_ENGINE_PREFIXES = ("TESTCONTAINERS_", "TC_", "DOCKER_HOST")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; no quoting or expansion."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def settings() -> dict[str, str]:
    """The layers merged (see the module docstring)."""
    engine = read_env_file(ENGINE_FILE)
    image_set = os.environ.get("FEEDCHAOS_IMAGES") or engine.get("FEEDCHAOS_IMAGES", "registry")
    chosen = IMAGES_DIR / f"{image_set}.env"
    if not chosen.is_file():
        raise ValueError(f"FEEDCHAOS_IMAGES={image_set!r}: no {chosen.relative_to(REPO_ROOT)}")
    merged = read_env_file(DEFAULTS_FILE) | read_env_file(chosen) | engine
    return merged | {k: os.environ[k] for k in merged if k in os.environ}


def apply_engine_env() -> None:
    """Put engine.env's testcontainers variables into os.environ (never over a set one).

    Must run before testcontainers is imported: it reads them at import time.
    """
    for key, value in read_env_file(ENGINE_FILE).items():
        if key.startswith(_ENGINE_PREFIXES):
            os.environ.setdefault(key, value)


@dataclass(frozen=True)
class Images:
    base: str  # the BASE argument of every images/*.Dockerfile
    by_role: dict[str, str]

    def __getitem__(self, role: str) -> str:
        return self.by_role[role]

    def built_here(self, role: str) -> bool:
        return self.by_role[role].startswith(BUILT_PREFIX)

    @staticmethod
    def dockerfile(role: str) -> Path:
        return IMAGES_DIR / f"{role}.Dockerfile"


def load_images() -> Images:
    values = settings()
    by_role = {role: values[f"FEEDCHAOS_IMAGE_{role.upper()}"] for role in ROLES}
    return Images(base=values["FEEDCHAOS_BASE_IMAGE"], by_role=by_role)


def engine_host() -> str:
    """Where the test process reaches the ports the engine maps.

    Not testcontainers' own guess: inside a container (``/.dockerenv``) it
    answers the default gateway, which is not where a local engine maps ports.
    """
    override = os.environ.get("TESTCONTAINERS_HOST_OVERRIDE") or os.environ.get("TC_HOST")
    if override:
        return override
    url = urllib.parse.urlparse(os.environ.get("DOCKER_HOST", ""))
    if url.scheme in ("tcp", "http", "https", "ssh") and url.hostname:
        return url.hostname
    return "127.0.0.1"


def bind_address(host: str) -> str:
    """Map ports on loopback only when the test process reaches them there."""
    try:
        return "127.0.0.1" if ipaddress.ip_address(host).is_loopback else "0.0.0.0"
    except ValueError:
        return "127.0.0.1" if host == "localhost" else "0.0.0.0"
