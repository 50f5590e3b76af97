"""One container the stack owns, with the interface of a ManagedProcess.

Process faults map to the engine: kill is ``docker kill`` (SIGKILL), terminate
is ``docker stop`` (the image's stop signal, SIGKILL after the bound), pause
and resume are ``docker pause``/``unpause`` (the cgroup freezer), and start
after any of them is ``docker start`` of the SAME container: its network
alias, mapped host ports and data (RabbitMQ's queues, PostgreSQL's cluster)
stay, as a restarted local process keeps its ports and data directory.

The container is created by testcontainers on the first start; readiness is
always the service's own protocol, probed through the mapped port.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from harness.containers.specs import Spec
from harness.errors import StackError
from harness.probes import established_in_table
from harness.process import Probe, wait_until_ready

RUNNING = ("running", "paused", "restarting")


class ContainerService:
    def __init__(
        self,
        spec: Spec,
        image: str,
        *,
        network: Network,
        container_name: str,
        labels: dict[str, str],
        host_ports: dict[int, int],
        bind_address: str,
        log_path: Path,
    ) -> None:
        self.name = spec.name
        self.spec = spec
        self.image = image
        self.host_ports = host_ports  # container port -> host port, fixed for the stack's life
        self.log_path = log_path
        self.ready_bound_s = spec.ready_bound_s
        self.stop_timeout_s = spec.stop_timeout_s
        self.probe: Probe = lambda: None  # set by the stack: it knows the endpoints
        self.starts = 0
        self._lock = threading.RLock()  # fault threads and reset_faults may race
        self._container: Container | None = None
        tc = DockerContainer(
            image,
            command=list(spec.command) if spec.command else None,
            env=dict(spec.env),
            name=container_name,
            network=network,
            network_aliases=[spec.alias],
            labels=labels,
            hostname=spec.alias,  # RabbitMQ names its node (and data dir) after it
        )
        for container_port, host_port in host_ports.items():
            # A fixed host port, not a random one: the engine would pick a new
            # one at every start, and the endpoints must survive a restart.
            tc.ports[f"{container_port}/tcp"] = (bind_address, host_port)  # type: ignore[assignment]
        for path, data in spec.files.items():
            tc.with_copy_into_container(data, path)
        self._tc = tc

    def __repr__(self) -> str:
        return f"<ContainerService {self.name} {self.state()}>"

    # -- state ------------------------------------------------------------------

    @property
    def container(self) -> Container:
        if self._container is None:
            raise StackError(self.name, "container not created yet")
        return self._container

    @property
    def created(self) -> bool:
        return self._container is not None

    def state(self) -> str:
        """The engine's word: created, running, paused, restarting, exited, dead, gone."""
        if self._container is None:
            return "not created"
        try:
            self._container.reload()
        except docker.errors.NotFound:
            return "gone"
        return str(self._container.status)

    def is_running(self) -> bool:
        """Alive (paused counts as alive), like ManagedProcess.is_running."""
        return self.state() in RUNNING

    def is_paused(self) -> bool:
        return self.state() == "paused"

    @property
    def pid(self) -> int | None:
        """The container's main process as the engine host sees it (None when stopped)."""
        if not self.is_running():
            return None
        return int(self.container.attrs["State"]["Pid"]) or None

    # -- start / readiness ----------------------------------------------------

    def spawn(self) -> None:
        """Create and start the container, or start it again; no wait for readiness.

        A no-op when it runs (paused counts as running, as for a process).
        """
        with self._lock:
            if self._container is None:
                try:
                    self._tc.start()
                except docker.errors.DockerException as exc:
                    msg = f"cannot start a container of {self.image}: {exc}"
                    raise StackError(self.name, msg) from exc
                self._container = self._tc.get_wrapped_container()
            elif self.state() in RUNNING:
                return
            else:
                self.container.start()
            self.starts += 1

    def wait_ready(self, bound_s: float | None = None) -> float:
        bound = self.ready_bound_s if bound_s is None else bound_s
        return wait_until_ready(
            self.name, self.probe, self.is_running, self._describe_exit, self.log_tail, bound
        )

    def _describe_exit(self) -> str:
        state = self.container.attrs.get("State", {}) if self._container else {}
        return f"container {state.get('Status', '?')} (exit code {state.get('ExitCode')})"

    def start(self, bound_s: float | None = None) -> float:
        """Start (the same container again) and wait until it answers; returns seconds."""
        t0 = time.monotonic()
        self.spawn()
        self.wait_ready(bound_s)
        return time.monotonic() - t0

    def restart(self, bound_s: float | None = None) -> float:
        self.terminate()
        return self.start(bound_s)

    # -- faults ---------------------------------------------------------------

    def _wait_stopped(self, bound_s: float) -> None:
        try:
            self.container.wait(timeout=bound_s)
        except Exception as exc:  # requests' ReadTimeout, or the engine's error
            if self.is_running():
                raise StackError(self.name, f"still running {bound_s:.0f}s after a stop") from exc

    def kill(self) -> None:
        """docker kill: SIGKILL to every process of the container, then wait until it is down."""
        with self._lock:
            if self.is_running():
                self._ignore_gone(self.container.kill)
            self._wait_stopped(10.0)

    def terminate(self, timeout: float | None = None) -> None:
        """docker stop: the image's stop signal, SIGKILL after ``timeout`` seconds."""
        with self._lock:
            if self._container is None:
                return
            bound = self.stop_timeout_s if timeout is None else timeout
            if self.is_running():
                self._ignore_gone(lambda: self.container.stop(timeout=max(1, round(bound))))
            self._wait_stopped(10.0)

    def pause(self) -> None:
        """docker pause: every process of the container frozen, sockets kept."""
        with self._lock:
            self.container.pause()

    def resume(self) -> None:
        with self._lock:
            if self.is_paused():
                self.container.unpause()

    def remove(self) -> None:
        """Gone for good, with its anonymous volumes (the end of the stack)."""
        with self._lock:
            if self._container is not None:
                self._ignore_gone(lambda: self.container.remove(force=True, v=True))

    def _ignore_gone(self, call: Any) -> None:
        """Calls the engine; a container that is already down or gone is no error."""
        try:
            call()
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: "is not running" and the like
                raise

    # -- inspection -------------------------------------------------------------

    def connected_to(self, port: int) -> bool:
        """An ESTABLISHED TCP connection from inside the container to ``port`` (any host).

        Read from the container's own /proc/net/tcp, through the engine, so it
        works whatever host the engine runs on.
        """
        if self.state() != "running":
            return False
        try:
            result = self.container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"])
        except docker.errors.APIError:
            return False
        return established_in_table(result.output.decode(errors="replace"), port)

    def log_tail(self, n: int = 40) -> str:
        if self._container is None:
            return ""
        try:
            return self._container.logs(tail=n).decode(errors="replace")
        except docker.errors.APIError:
            return ""

    def save_log(self) -> None:
        """The container's whole log into ``log_path`` (logs outlive the containers)."""
        if self._container is None:
            return
        try:
            data = self._container.logs()
        except docker.errors.APIError:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(data)
