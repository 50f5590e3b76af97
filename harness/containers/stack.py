"""ContainerStack: the same system as LocalStack, every service in its own container.

One Docker network per stack; Toxiproxy, Redis, RabbitMQ and PostgreSQL,
then the API, the three RPC services and the four consumers, each in its
own container, found by network alias. Every SUT link goes through the
Toxiproxy container. The test process reaches the API, Toxiproxy's control
port and the stores through ports mapped on the engine host.

Start order: images (cached builds) -> network -> infra containers booting
together -> proxies -> database + migration -> SUT containers together.
``stop()`` removes every container (with its volumes) and the network; a
reaper process (reaper.py) does the same if this process dies first, and a
sweep at start removes what dead owners left behind.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import docker
import psycopg
from testcontainers.core.network import Network

from faults.toxiproxy import ToxiproxyClient
from harness import probes, sut
from harness.containers import config, engine, images, specs
from harness.containers.service import ContainerService
from harness.errors import StackError
from harness.links import RPC_SERVICES
from harness.ports import free_port
from harness.stack import StackBase, StackEndpoints, register, unregister

INFRA_NAMES = ("toxiproxy", "redis", "rabbitmq", "postgres")


class ContainerStack(StackBase):
    """The feed system in containers; the interface the suites use is LocalStack's."""

    def __init__(
        self,
        run_dir: Path,
        sut_env: dict[str, str] | None = None,
        *,
        with_sut: bool = True,
        build_images: bool = True,
    ) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.logs_dir = self.run_dir / "logs"
        self.sut_env = dict(sut_env or {})
        self.with_sut = with_sut
        self.build_images = build_images  # False: use the images as they are (setup built them)
        self.stack_id = uuid.uuid4().hex[:8]
        self.timings: dict[str, float] = {}
        self.processes: dict[str, ContainerService] = {}
        self.last_reset: list[str] = []
        self.last_reset_s = 0.0
        self.images = config.load_images()

        self.host = config.engine_host()
        self._bind = config.bind_address(self.host)
        # Host ports fixed for the stack's life (a restarted container keeps them),
        # picked below the ephemeral range like the local stack's.
        self._specs = {s.name: s for s in specs.infra_specs()}
        links = specs.container_links()
        if with_sut:
            self._specs |= {s.name: s for s in specs.sut_specs(links, self.sut_env)}
        self.host_ports = {n: {p: free_port() for p in s.ports} for n, s in self._specs.items()}

        def at(name: str, port: int) -> str:
            return f"{self.host}:{self.host_ports[name][port]}"

        self.endpoints = StackEndpoints(
            api_url=f"http://{at('api', specs.API_PORT)}" if with_sut else "",
            toxiproxy_url=f"http://{at('toxiproxy', specs.TOXIPROXY_API_PORT)}",
            redis_url=f"redis://{at('redis', 6379)}/0",
            amqp_url=f"amqp://{specs.AMQP_CREDENTIALS}@{at('rabbitmq', 5672)}/",
            postgres_dsn=f"postgresql://postgres@{at('postgres', 5432)}/feed",
            links=links,
            rpc_addrs={r: at(r, specs.RPC_PORT) for r in RPC_SERVICES} if with_sut else {},
        )
        self.toxiproxy = ToxiproxyClient(self.endpoints.toxiproxy_url, timeout=5.0)
        self._client: docker.DockerClient | None = None
        self._network: Network | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self._stop_lock = threading.Lock()
        self._started = False

    def __enter__(self) -> ContainerStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- start ------------------------------------------------------------------

    def start(self) -> None:
        """Everything up and ready; on failure remove what was created and raise StackError."""
        if self._started:
            return
        register(self)
        self._started = True
        t0 = time.monotonic()
        try:
            self._client = self._timed("engine", engine.client)
            swept = engine.sweep(self._client)
            if swept:
                print(f"feedchaos: removed leftovers of dead stacks: {swept}", file=sys.stderr)
            self._start_reaper()
            if self.build_images:
                self._timed("images", self._ensure_images)
            self._timed("network", self._create_network)
            self._start_group(INFRA_NAMES)
            self._timed("proxies", self._create_proxies)
            self._timed("createdb", self._create_db)
            if self.with_sut:
                self._timed("migrate", self._migrate)
                self._timed("sut", lambda: self._start_group(sut.SUT_NAMES))
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = round(time.monotonic() - t0, 3)

    def _ensure_images(self) -> None:
        assert self._client is not None
        roles = {s.role for s in self._specs.values()}
        built = images.ensure(self._client, self.images, roles)
        self.timings |= {f"image_{role}": seconds for role, seconds in built.items()}

    def _start_reaper(self) -> None:
        """Our Ryuk (reaper.py): removes this stack if this process dies before stop()."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.logs_dir / "reaper.log", "ab") as log:
            self._reaper = subprocess.Popen(
                [sys.executable, "-m", "harness.containers.reaper", self.stack_id],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=config.REPO_ROOT,
                start_new_session=True,  # Ctrl-C in the terminal must not reach it
            )

    def _create_network(self) -> None:
        network = Network(docker_network_kw={"labels": engine.stack_labels(self.stack_id)})
        network.name = f"feedchaos-{self.stack_id}"
        self._network = network.create()

    def _service(self, name: str) -> ContainerService:
        spec = self._specs[name]
        assert self._network is not None
        service = ContainerService(
            spec,
            self.images[spec.role],
            network=self._network,
            container_name=f"feedchaos-{self.stack_id}-{spec.alias}",
            labels=engine.stack_labels(self.stack_id),
            host_ports=self.host_ports[name],
            bind_address=self._bind,
            log_path=self.logs_dir / f"{name}.log",
        )
        service.probe = self._probe(service)
        self.processes[name] = service
        return service

    def _probe(self, service: ContainerService) -> Callable[[], object]:
        """Readiness by the service's protocol, through its mapped port."""
        e, name = self.endpoints, service.name
        if name == "toxiproxy":
            return probes.toxiproxy(e.toxiproxy_url)
        if name == "redis":
            return probes.redis_ping(e.redis_url)
        if name == "rabbitmq":
            return probes.amqp_handshake(e.amqp_url)
        if name == "postgres":
            return probes.postgres_select1(e.postgres_dsn.rsplit("/", 1)[0] + "/postgres")
        if name == "api":
            return probes.http_ok(f"{e.api_url}/healthz")
        if name in RPC_SERVICES:
            return probes.grpc_serving(e.rpc_addrs[name])
        link = e.links[f"{name}__rabbitmq"]
        return probes.consumer_attached(
            e.amqp_url,
            sut.CONSUMER_QUEUES[name],
            lambda: service.connected_to(link.listen_port),
            link.name,
        )

    def _start_group(self, names: tuple[str, ...]) -> None:
        """Create and start them together, then wait for all; records each one's cold start."""
        services = [self._service(n) for n in names]
        since = {s.name: time.monotonic() for s in services}
        with ThreadPoolExecutor(len(services), thread_name_prefix="create") as pool:
            futures = [pool.submit(s.spawn) for s in services]
        for fut in futures:
            fut.result()
        self._wait_ready_all(services, since)

    def _create_db(self) -> None:
        admin = self.endpoints.postgres_dsn.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, connect_timeout=5, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'feed'").fetchone():
                conn.execute('CREATE DATABASE "feed"')

    def _migrate(self) -> None:
        sut.run_migrate(self.endpoints.postgres_dsn, self.logs_dir)

    # -- stop -----------------------------------------------------------------------

    def stop(self) -> None:
        """Remove every container and the network (idempotent); logs stay in logs_dir."""
        with self._stop_lock:
            errors: list[BaseException] = []

            def attempt(fn: Callable[[], Any]) -> None:
                try:
                    fn()
                except Exception as exc:  # keep removing the rest
                    errors.append(exc)

            services = list(self.processes.values())
            if services:
                with ThreadPoolExecutor(len(services), thread_name_prefix="stop") as pool:
                    for fut in [pool.submit(s.save_log) for s in services]:
                        attempt(fut.result)
                    for fut in [pool.submit(s.remove) for s in services]:
                        attempt(fut.result)
            if self._network is not None:
                attempt(self._network.remove)
                self._network = None
            if self._client is not None:  # anything else labelled with this stack
                client = self._client
                attempt(lambda: engine.remove_stack(client, self.stack_id))
            self.toxiproxy.close()
            self._release_reaper()
            unregister(self)
            if errors:
                raise errors[0]

    def _release_reaper(self) -> None:
        """Close its pipe: it sweeps once more (nothing left) and exits."""
        reaper, self._reaper = self._reaper, None
        if reaper is None:
            return
        stdin: IO[bytes] | None = reaper.stdin
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            reaper.wait(timeout=30)

    # -- introspection ----------------------------------------------------------------

    def container_names(self) -> list[str]:
        return sorted(f"feedchaos-{self.stack_id}-{s.alias}" for s in self._specs.values())


__all__ = ["ContainerStack", "StackError"]
