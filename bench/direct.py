"""A second API and RPC service set that bypasses every proxy, for the direct comparison.

The stack's API dials the RPC services through Toxiproxy, and the RPC services
reach Redis and PostgreSQL through their own proxies too. A second API alone
would bypass only the first hop, so this starts three more RPC services on
their own ports, wired straight to Redis and PostgreSQL, and an API wired
straight to them and to the broker. Same code, same settings, same stores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness import probes
from harness.infra import REPO_ROOT, clean_env
from harness.links import RPC_SERVICES
from harness.ports import free_port
from harness.process import ManagedProcess, Probe
from harness.stack import StackEndpoints
from harness.sut import sut_argv

RPC_ENV_NAME = {"feed_rpc": "FEED", "card_rpc": "CARD", "user_rpc": "USER"}


@dataclass
class DirectSet:
    api_url: str
    processes: list[ManagedProcess]

    def pids(self) -> list[int]:
        return sorted({pid for p in self.processes for pid in p.alive_pids()})


def _process(name: str, env: Mapping[str, str], logs: Path, probe: Probe) -> ManagedProcess:
    service = name.removeprefix("direct_")
    return ManagedProcess(
        name,
        sut_argv(service),
        log_path=logs / f"{name}.log",
        probe=probe,
        env=clean_env() | dict(env) | {"PYTHONUNBUFFERED": "1"},
        cwd=REPO_ROOT,
        ready_bound_s=45.0,
        stop_timeout_s=10.0,
    )


@contextlib.contextmanager
def direct_set(
    endpoints: StackEndpoints, sut_env: Mapping[str, str], logs: Path
) -> Iterator[DirectSet]:
    """Start the direct API and RPC services, ready; stop them on the way out."""
    rpc_ports = {rpc: free_port() for rpc in RPC_SERVICES}
    api_port = free_port()
    procs: list[ManagedProcess] = []
    for rpc, port in rpc_ports.items():
        env = {
            **sut_env,
            "FEED_RPC_LISTEN": f"127.0.0.1:{port}",
            "FEED_REDIS_URL": endpoints.redis_url,
            "FEED_POSTGRES_DSN": endpoints.postgres_dsn,
        }
        procs.append(_process(f"direct_{rpc}", env, logs, probes.grpc_serving(f"127.0.0.1:{port}")))
    api_env = {
        **sut_env,
        "FEED_API_LISTEN": f"127.0.0.1:{api_port}",
        "FEED_AMQP_URL": endpoints.amqp_url,
        **{
            f"FEED_{RPC_ENV_NAME[rpc]}_RPC_ADDR": f"127.0.0.1:{port}"
            for rpc, port in rpc_ports.items()
        },
    }
    api_url = f"http://127.0.0.1:{api_port}"
    procs.append(_process("direct_api", api_env, logs, probes.http_ok(f"{api_url}/healthz")))
    try:
        for proc in procs:
            proc.spawn()
        with ThreadPoolExecutor(len(procs)) as pool:
            for fut in [pool.submit(p.wait_ready) for p in procs]:
                fut.result()
        yield DirectSet(api_url, procs)
    finally:
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
