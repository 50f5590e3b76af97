"""The images of the containers stack: build the feedchaos/ ones, pull the others.

Each build gets a context of its own with only the files its Dockerfile
copies (a tar made here), so an unchanged image is a cache hit in about a
second. The SUT image gets its Python dependencies as wheels made on this
machine (wheels.py), so its build needs no package index.
"""

from __future__ import annotations

import io
import shutil
import sys
import tarfile
import time
from collections.abc import Callable, Iterable

import docker
import docker.errors

from harness.containers import wheels
from harness.containers.config import CACHE_DIR, REPO_ROOT, ROLES, Images
from harness.errors import StackError

WHEELS_DIR = CACHE_DIR / "wheels"
IMAGE_LABEL = "io.feedchaos.image"  # on every image built here, so old builds can be pruned
# What each Dockerfile copies, relative to the repo root (the Dockerfile itself is added).
CONTEXT: dict[str, tuple[str, ...]] = {
    "toxiproxy": ("bin/toxiproxy-server",),
    "redis": ("images/apt-install",),
    "rabbitmq": ("images/apt-install",),
    "postgres": ("images/apt-install", "images/postgres-entrypoint.sh"),
    "sut": ("images/apt-install", ".cache/containers/wheels", "system_under_test"),
}
Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(f"[images] {line}", file=sys.stderr, flush=True)


# -- the SUT's wheels -----------------------------------------------------------------


def ensure_wheels(python_version: str, log: Log = _stderr) -> None:
    """WHEELS_DIR holds the wheels for the image's Python and their requirements.txt.

    Remade only when that Python's version or the pinned set (this venv's
    versions of what the SUT needs) changes.
    """
    pinned = wheels.pins(wheels.sut_requirements(), python_version, WHEELS_DIR)
    key = f"python {python_version}\n" + "".join(f"{p}\n" for p in sorted(pinned.values()))
    stamp = WHEELS_DIR / "made-for.txt"
    if stamp.is_file() and stamp.read_text() == key and (WHEELS_DIR / "requirements.txt").is_file():
        return
    log(f"making wheels of the SUT's dependencies for Python {python_version}")
    shutil.rmtree(WHEELS_DIR, ignore_errors=True)
    requirements = wheels.make(WHEELS_DIR, python_version)
    (WHEELS_DIR / "requirements.txt").write_text(requirements)
    stamp.write_text(key)  # last: an interrupted run is redone next time


def image_python(c: docker.DockerClient, image_id: str) -> str:
    """The Python version of an image's /opt/venv, remembered per image id."""
    memo = CACHE_DIR / "python-version" / image_id.replace(":", "-")
    if memo.is_file():
        return memo.read_text().strip()
    out = c.containers.run(
        image_id,
        ["/opt/venv/bin/python", "-c", "import platform; print(platform.python_version())"],
        remove=True,
        network_mode="none",
    )
    version = out.decode().strip()
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(version + "\n")
    return version


# -- building ---------------------------------------------------------------------------


def _skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if "__pycache__" in info.name.split("/") or info.name.endswith(".pyc"):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def context_tar(role: str) -> io.BytesIO:
    """The build context of one role: its Dockerfile and the paths it copies."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel in (f"images/{role}.Dockerfile", *CONTEXT[role]):
            path = REPO_ROOT / rel
            if not path.exists():
                hint = "run scripts/setup.sh" if rel.startswith("bin/") else "missing"
                raise StackError("images", f"{rel} is not there ({hint}) to build {role}")
            tar.add(path, arcname=rel, filter=_skip)
    buf.seek(0)
    return buf


def _build(c: docker.DockerClient, role: str, images: Images, target: str | None = None) -> str:
    """One docker build (cached by layer); returns the image id."""
    tail: list[str] = []
    image_id = ""
    stream = c.api.build(
        fileobj=context_tar(role),
        custom_context=True,
        dockerfile=f"images/{role}.Dockerfile",
        tag=None if target else images[role],
        target=target,
        buildargs={"BASE": images.base},
        labels={IMAGE_LABEL: role},
        # The host's network for RUN steps: nothing to NAT, works even where
        # dockerd runs without iptables.
        network_mode="host",
        rm=True,
        forcerm=True,
        decode=True,
    )
    for chunk in stream:
        if "error" in chunk:
            raise StackError("images", f"building {images[role]}: {chunk['error']}", "".join(tail))
        image_id = chunk.get("aux", {}).get("ID", image_id)
        text = chunk.get("stream", "")
        if text:
            tail = [*tail[-40:], text]
            if text.startswith("Successfully built "):
                image_id = image_id or text.split()[-1]
    return image_id


def build(c: docker.DockerClient, role: str, images: Images, log: Log = _stderr) -> None:
    """Build one role's image, tagged with its configured name.

    The SUT's wheels must fit the image's Python, so its first stage (Python
    and a venv) is built first and asked for its version.
    """
    if role == "sut":
        WHEELS_DIR.mkdir(parents=True, exist_ok=True)  # part of the context, empty at first
        ensure_wheels(image_python(c, _build(c, role, images, target="python")), log)
    _build(c, role, images)


def pull(c: docker.DockerClient, name: str) -> None:
    repo, _, tag = name.rpartition(":") if ":" in name.split("/")[-1] else (name, "", "latest")
    try:
        c.images.pull(repo, tag=tag)
    except docker.errors.APIError as exc:
        raise StackError("images", f"cannot pull {name}: {exc}") from exc


def present(c: docker.DockerClient, name: str) -> bool:
    try:
        c.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def ensure(
    c: docker.DockerClient,
    images: Images,
    roles: Iterable[str] = ROLES,
    log: Log = _stderr,
) -> dict[str, float]:
    """Every image of ``roles`` present and up to date; returns seconds per role."""
    timings: dict[str, float] = {}
    roles = list(roles)
    local_base = images.base.startswith("feedchaos/")
    if local_base and any(images.built_here(r) for r in roles) and not present(c, images.base):
        raise StackError(
            "images",
            f"base image {images.base} is missing: `./feedchaos setup --containers` makes it",
        )
    for role in roles:
        t0 = time.monotonic()
        if images.built_here(role):
            build(c, role, images, log)
        elif not present(c, images[role]):
            log(f"pulling {images[role]}")
            pull(c, images[role])
        timings[role] = round(time.monotonic() - t0, 3)
    # A rebuilt tag leaves the previous image untagged: drop those of ours.
    c.images.prune(filters={"dangling": True, "label": IMAGE_LABEL})
    return timings


__all__ = ["CONTEXT", "WHEELS_DIR", "build", "ensure", "ensure_wheels", "pull"]
