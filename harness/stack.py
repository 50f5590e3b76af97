"""LocalStack: infra, Toxiproxy links and SUT as local processes on loopback ports.

Start order: epmd -> RabbitMQ, PostgreSQL (initdb once), Redis, Toxiproxy all
booting concurrently -> proxies (/populate) -> database + migration -> SUT.
Stop order: SUT, proxies, Toxiproxy, Redis, RabbitMQ, epmd, PostgreSQL.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from faults.toxiproxy import ToxiproxyClient, ToxiproxyError
from harness import infra, sut
from harness.errors import StackError
from harness.links import RPC_SERVICES, Link, build_links, link_pairs
from harness.ports import free_port, free_ports
from harness.process import ManagedProcess

INFRA_NAMES = ("toxiproxy", "redis", "rabbitmq", "postgres")


@dataclass
class StackEndpoints:
    api_url: str  # "http://127.0.0.1:port", the API's real listener
    toxiproxy_url: str
    redis_url: str  # DIRECT (not proxied): for checkers
    amqp_url: str  # DIRECT
    postgres_dsn: str  # DIRECT, database "feed"
    links: dict[str, Link] = field(default_factory=dict)
    rpc_addrs: dict[str, str] = field(default_factory=dict)  # DIRECT host:port per RPC service

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["links"] = {name: asdict(link) for name, link in self.links.items()}
        return data


class StackProcess(Protocol):
    """What the stack logic needs of a process or container it manages."""

    name: str

    def spawn(self) -> None: ...
    def wait_ready(self, bound_s: float | None = None) -> float: ...
    def start(self, bound_s: float | None = None) -> float: ...
    def terminate(self, timeout: float | None = None) -> None: ...
    def resume(self) -> None: ...
    def is_running(self) -> bool: ...
    def is_paused(self) -> bool: ...


class StackBase:
    """What every stack shares: readiness waits, the proxies, and healing between tests.

    A subclass sets ``endpoints``, ``toxiproxy``, ``timings``, ``processes``,
    ``last_reset``/``last_reset_s`` and may override ``_all()``.
    """

    endpoints: StackEndpoints
    toxiproxy: ToxiproxyClient
    timings: dict[str, float]
    processes: Mapping[str, StackProcess]
    last_reset: list[str]
    last_reset_s: float
    INFRA_ORDER = ("toxiproxy", "epmd", "redis", "postgres", "rabbitmq")  # restart order

    def _all(self) -> Mapping[str, StackProcess]:
        return self.processes

    def _timed(self, key: str, fn: Callable[[], Any]) -> Any:
        t0 = time.monotonic()
        result = fn()
        self.timings[key] = round(time.monotonic() - t0, 3)
        return result

    def _wait_ready_all(
        self,
        procs: Iterable[StackProcess],
        since: dict[str, float] | None,
        bound_s: float | None = None,
    ) -> None:
        """Wait for several booting processes at once; record each one's cold start."""
        procs = list(procs)
        if not procs:
            return

        def wait(p: StackProcess) -> float:
            p.wait_ready(bound_s)
            return time.monotonic()

        with ThreadPoolExecutor(max_workers=len(procs), thread_name_prefix="ready") as pool:
            futures = {p.name: pool.submit(wait, p) for p in procs}
        errors: list[BaseException] = []
        for name, fut in futures.items():
            exc = fut.exception()
            if exc is not None:
                errors.append(exc)
            elif since is not None:
                self.timings[name] = round(fut.result() - since[name], 3)
        if errors:
            first = errors[0]
            if len(errors) > 1 and isinstance(first, StackError):
                others = ", ".join(getattr(e, "component", "?") for e in errors[1:])
                first.add_note(f"also failed: {others}")
            raise first

    @staticmethod
    def _unready(procs: list[StackProcess], bound_s: float) -> list[StackProcess]:
        """Wait for all at once; return the ones still not ready after ``bound_s``."""
        if not procs:
            return []
        with ThreadPoolExecutor(max_workers=len(procs), thread_name_prefix="ready") as pool:
            futures = [(p, pool.submit(p.wait_ready, bound_s)) for p in procs]
        return [p for p, fut in futures if fut.exception() is not None]

    def _create_proxies(self) -> None:
        """Create the links' proxies, or restore the ones deleted or changed since.

        Only those go to /populate, compared by upstream and listen port: a
        proxy /populate finds with another listen string is replaced, which
        closes its connections, and Toxiproxy reports a wildcard listen the way
        it bound it ("[::]:port" for "0.0.0.0:port" in a container).
        """
        existing = self.toxiproxy.proxies()
        stale = [
            link
            for link in self.endpoints.links.values()
            if (proxy := existing.get(link.name)) is None
            or proxy.upstream != link.upstream
            or int(proxy.listen.rsplit(":", 1)[1]) != link.listen_port
        ]
        if not stale:
            return
        created = self.toxiproxy.populate([link.to_populate() for link in stale])
        missing = {link.name for link in stale} - {p.name for p in created}
        if missing:
            raise StackError("toxiproxy", f"/populate did not create {sorted(missing)}")

    def reset_faults(self, ready_bound_s: float = 20.0) -> None:
        """Undo every fault so the next test starts from a healthy stack.

        Resumes paused processes, restarts dead ones (same ports and data),
        resets Toxiproxy (re-enables proxies, drops toxics) and re-creates any
        proxy that was deleted or changed, then waits until every SUT process
        is ready again; one that stays unready past ``ready_bound_s`` (e.g. a
        consumer that never re-attached after a broker restart) is restarted.
        """
        t0 = time.monotonic()
        actions: list[str] = []
        for name, proc in self._all().items():
            if proc.is_running() and proc.is_paused():
                proc.resume()
                actions.append(f"resume {name}")
        for name in self.INFRA_ORDER:
            proc = self._all().get(name)
            if proc is not None and not proc.is_running():
                proc.start()
                actions.append(f"restart {name}")
        infra_procs = [p for n, p in self._all().items() if n in self.INFRA_ORDER]
        for proc in infra_procs:  # a resumed broker or database must answer again
            proc.wait_ready()
        self.toxiproxy.reset()
        self._create_proxies()  # restores deleted or changed proxies

        sut_procs = [p for n, p in self.processes.items() if n in sut.SUT_NAMES]
        for proc in sut_procs:
            if not proc.is_running():
                proc.spawn()
                actions.append(f"restart {proc.name}")
        unready = self._unready(sut_procs, ready_bound_s)
        for proc in unready:
            proc.terminate()
            proc.spawn()
            actions.append(f"restart unready {proc.name}")
        if unready:
            self._wait_ready_all(unready, since=None)
        self.last_reset = actions
        self.last_reset_s = round(time.monotonic() - t0, 3)


class LocalStack(StackBase):
    """The whole system on this machine; see docs/architecture.md for the links."""

    def __init__(
        self,
        run_dir: Path,
        sut_env: dict[str, str] | None = None,
        *,
        with_sut: bool = True,
    ) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.logs_dir = self.run_dir / "logs"
        self.sut_env = dict(sut_env or {})
        self.with_sut = with_sut  # False: infra + proxies only (harness work, fault tests)
        self.timings: dict[str, float] = {}
        self.processes: dict[str, ManagedProcess] = {}
        self.aux_processes: dict[str, ManagedProcess] = {}  # epmd: never a fault target
        self.last_reset: list[str] = []  # what the last reset_faults() had to do
        self.last_reset_s = 0.0  # and how long it took
        self.node_name = f"feedchaos-{uuid.uuid4().hex[:8]}@localhost"

        # Every port is fixed for the stack's life, so restarts reuse them.
        self.ports: dict[str, int] = {
            name: free_port()
            for name in (
                "toxiproxy", "redis", "rabbitmq", "rabbitmq_dist", "epmd", "postgres",
                "api", *RPC_SERVICES,
            )
        }  # fmt: skip
        servers = {n: self.ports[n] for n in ("redis", "rabbitmq", "postgres", *RPC_SERVICES)}
        links = build_links(servers, free_ports(len(link_pairs())))
        self.endpoints = StackEndpoints(
            api_url=f"http://127.0.0.1:{self.ports['api']}",
            toxiproxy_url=f"http://127.0.0.1:{self.ports['toxiproxy']}",
            redis_url=f"redis://127.0.0.1:{self.ports['redis']}/0",
            amqp_url=f"amqp://guest:guest@127.0.0.1:{self.ports['rabbitmq']}/",
            postgres_dsn=infra.postgres_dsn(self.ports["postgres"]),
            links=links,
            rpc_addrs={rpc: f"127.0.0.1:{self.ports[rpc]}" for rpc in RPC_SERVICES},
        )
        self.toxiproxy = ToxiproxyClient(self.endpoints.toxiproxy_url, timeout=5.0)
        self._pg_layout: infra.PgLayout | None = None
        self._stop_lock = threading.Lock()
        self._started = False

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _all(self) -> dict[str, ManagedProcess]:
        return {**self.aux_processes, **self.processes}

    # -- start ------------------------------------------------------------------

    def start(self) -> None:
        """Everything up and ready; on failure stop what started and raise StackError."""
        if self._started:
            return
        register(self)
        self._started = True
        t0 = time.monotonic()
        try:
            self._start_infra()
            self._timed("proxies", self._create_proxies)
            self._timed("createdb", lambda: infra.postgres_create_db(self.ports["postgres"]))
            if self.with_sut:
                self._migrate()
                self._timed("sut", self._start_sut)
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = round(time.monotonic() - t0, 3)

    def _start_infra(self) -> None:
        logs, ports = self.logs_dir, self.ports
        infra.find_toxiproxy_server()  # fail before starting anything
        logs.mkdir(parents=True, exist_ok=True)
        since: dict[str, float] = {}

        epmd = infra.epmd_process(logs, ports["epmd"])
        self.aux_processes["epmd"] = epmd
        self._timed("epmd", epmd.start)  # the broker needs it registered-to first

        rabbit_ports = infra.RabbitPorts(ports["rabbitmq"], ports["rabbitmq_dist"], ports["epmd"])
        rabbit = infra.rabbitmq_process(
            logs, self.run_dir / "rabbitmq", self.node_name, rabbit_ports
        )
        self.processes["rabbitmq"] = rabbit
        since["rabbitmq"] = time.monotonic()
        rabbit.spawn()  # slowest first: it boots while the rest is set up

        since["postgres"] = time.monotonic()
        self._pg_layout = infra.postgres_layout(self.run_dir)
        self._timed(
            "postgres_initdb", lambda: infra.postgres_initdb(self._pg_layout, logs / "initdb.log")
        )
        pg = infra.postgres_process(logs, self._pg_layout, ports["postgres"])
        self.processes["postgres"] = pg
        pg.spawn()

        redis = infra.redis_process(logs, self.run_dir / "redis", ports["redis"])
        self.processes["redis"] = redis
        since["redis"] = time.monotonic()
        redis.spawn()

        toxi = infra.toxiproxy_process(logs, ports["toxiproxy"])
        self.processes["toxiproxy"] = toxi
        since["toxiproxy"] = time.monotonic()
        toxi.spawn()

        self._wait_ready_all([toxi, redis, pg, rabbit], since)

    def _migrate(self) -> None:
        self._timed("migrate", lambda: sut.run_migrate(self.endpoints.postgres_dsn, self.logs_dir))

    def _start_sut(self) -> None:
        if not sut.sut_available():
            raise StackError("sut", "system_under_test/ is missing (use with_sut=False)")
        since: dict[str, float] = {}
        procs = []
        for name in sut.SUT_NAMES:
            proc = sut.sut_process(
                name,
                self.logs_dir,
                self.endpoints.links,
                {rpc: self.ports[rpc] for rpc in RPC_SERVICES},
                self.ports["api"],
                self.endpoints.amqp_url,
                self.sut_env,
            )
            self.processes[name] = proc
            since[name] = time.monotonic()
            proc.spawn()
            procs.append(proc)
        self._wait_ready_all(procs, since)

    # -- stop -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything (idempotent): no process, port or proxy is left."""
        with self._stop_lock:
            errors: list[BaseException] = []

            def attempt(fn: Callable[[], Any]) -> None:
                try:
                    fn()
                except Exception as exc:  # keep stopping the rest
                    errors.append(exc)

            sut_procs = [p for n, p in self.processes.items() if n in sut.SUT_NAMES]
            if sut_procs:
                with ThreadPoolExecutor(len(sut_procs), thread_name_prefix="stop") as pool:
                    for fut in [pool.submit(p.terminate) for p in sut_procs]:
                        attempt(fut.result)

            toxi = self.processes.get("toxiproxy")
            if toxi is not None and toxi.is_running() and not toxi.is_paused():
                attempt(self._delete_proxies)
            for name in ("toxiproxy", "redis", "rabbitmq"):
                if name in self.processes:
                    attempt(self.processes[name].terminate)
            if "epmd" in self.aux_processes:
                attempt(self.aux_processes["epmd"].terminate)
            if "postgres" in self.processes:
                attempt(self.processes["postgres"].terminate)
            self.toxiproxy.close()

            if not any(p.alive_pids() for p in self._all().values()):
                self._remove_data()
            unregister(self)
            if errors:
                raise errors[0]

    def _delete_proxies(self) -> None:
        with contextlib.suppress(ToxiproxyError):
            self.toxiproxy.reset()
        for name in list(self.toxiproxy.proxies()):
            self.toxiproxy.delete_proxy(name)

    def _remove_data(self) -> None:
        """Data dirs go, logs stay (they explain a failed run)."""
        for sub in ("redis", "rabbitmq"):
            shutil.rmtree(self.run_dir / sub, ignore_errors=True)
        if self._pg_layout is not None:
            infra.remove_postgres_data(self._pg_layout, self.run_dir)

    # -- introspection ----------------------------------------------------------------

    def all_pids(self) -> list[int]:
        """Every live process of every managed group (for teardown checks)."""
        return sorted({pid for p in self._all().values() for pid in p.alive_pids()})

    def all_ports(self) -> list[int]:
        return sorted(
            set(self.ports.values()) | {link.listen_port for link in self.endpoints.links.values()}
        )


# -- nothing outlives the run: atexit + SIGTERM --------------------------------------


class Stoppable(Protocol):
    def stop(self) -> None: ...


_LIVE: weakref.WeakSet[Stoppable] = weakref.WeakSet()
_handlers_installed = False


def _stop_all() -> None:
    for stack in list(_LIVE):
        with contextlib.suppress(Exception):
            stack.stop()


def _on_sigterm(signum: int, frame: object) -> None:
    _stop_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def register(stack: Stoppable) -> None:
    """Stop ``stack`` at interpreter exit and on SIGTERM, if it is still up."""
    global _handlers_installed
    _LIVE.add(stack)
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_stop_all)
    # Only from the main thread, and never over a handler someone else set.
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)


def unregister(stack: Stoppable) -> None:
    _LIVE.discard(stack)
