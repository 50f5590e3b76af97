"""The Docker engine as the harness sees it: a client, our labels, and removal.

Every container and network a ContainerStack creates carries three labels:
the stack id, the pid of the process that owns it and that process's host.
Removal goes by the stack id, so it never touches anything it did not create;
a sweep removes the stacks whose owner died on this host without cleaning up
(and without its reaper, see reaper.py).
"""

from __future__ import annotations

import contextlib
import os
import socket

import docker
import docker.errors
from docker.models.containers import Container

from harness.errors import StackError

LABEL_STACK = "io.feedchaos.stack"
LABEL_PID = "io.feedchaos.pid"
LABEL_HOST = "io.feedchaos.host"
API_TIMEOUT_S = 120  # one engine call; a first `docker build` step can take a while


def client() -> docker.DockerClient:
    """A client of the engine at DOCKER_HOST (or the local socket); fails clearly if none."""
    try:
        c = docker.from_env(timeout=API_TIMEOUT_S)
        c.ping()
    except docker.errors.DockerException as exc:
        raise StackError(
            "docker",
            f"no Docker engine answers ({exc}); run `./feedchaos setup --containers`, "
            "which installs and starts one",
        ) from exc
    return c


def stack_labels(stack_id: str) -> dict[str, str]:
    return {LABEL_STACK: stack_id, LABEL_PID: str(os.getpid()), LABEL_HOST: socket.gethostname()}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stack(c: docker.DockerClient, stack_id: str) -> list[str]:
    """Remove every container (with its anonymous volumes) and network of one stack."""
    removed: list[str] = []
    label = f"{LABEL_STACK}={stack_id}"
    for container in c.containers.list(all=True, filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
            removed.append(f"container {container.name}")
    for network in c.networks.list(filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
            removed.append(f"network {network.name}")
    return removed


def orphaned_stacks(c: docker.DockerClient) -> set[str]:
    """Stack ids whose owning process on this host is gone."""
    host = socket.gethostname()
    found: set[str] = set()
    labelled: list[dict[str, str]] = [
        obj.labels
        for obj in c.containers.list(all=True, filters={"label": LABEL_STACK})
        if isinstance(obj, Container)
    ]
    networks = c.networks.list(filters={"label": LABEL_STACK})
    labelled += [n.attrs.get("Labels") or {} for n in networks]
    for labels in labelled:
        pid = labels.get(LABEL_PID, "")
        if labels.get(LABEL_HOST) == host and pid.isdigit() and not _pid_alive(int(pid)):
            found.add(labels[LABEL_STACK])
    return found


def leftovers(c: docker.DockerClient) -> list[str]:
    """Containers and networks of stacks whose owner died: what a run left behind."""
    orphans = orphaned_stacks(c)
    names = [
        f"container {obj.name}"
        for obj in c.containers.list(all=True, filters={"label": LABEL_STACK})
        if obj.labels.get(LABEL_STACK) in orphans
    ]
    names += [
        f"network {n.name}"
        for n in c.networks.list(filters={"label": LABEL_STACK})
        if (n.attrs.get("Labels") or {}).get(LABEL_STACK) in orphans
    ]
    return names


def sweep(c: docker.DockerClient) -> list[str]:
    """Remove the stacks of dead owners on this host; returns what went."""
    removed: list[str] = []
    for stack_id in sorted(orphaned_stacks(c)):
        removed += remove_stack(c, stack_id)
    return removed
