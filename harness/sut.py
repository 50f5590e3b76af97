"""The system-under-test processes and their environment.

Every FEED_* address points at the process's OWN Toxiproxy link, never at the
real listener, so each link can be broken on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from harness import probes
from harness.errors import StackError
from harness.infra import REPO_ROOT, clean_env
from harness.links import CONSUMERS, RPC_SERVICES, Link
from harness.process import ManagedProcess, child_setup

SUT_NAMES = ("api", *RPC_SERVICES, *CONSUMERS)
CONSUMER_QUEUES = {
    "post_consumer": "feed.post",
    "comment_consumer": "feed.comment",
    "like_consumer": "feed.like",
    "social_consumer": "feed.social",
}
MIGRATE_MODULE = "system_under_test.store.migrate"


def sut_available() -> bool:
    return (REPO_ROOT / "system_under_test" / "__init__.py").is_file()


def _amqp(link: Link, credentials: str) -> str:
    return f"amqp://{credentials}@{link.address}/"


def _redis(link: Link) -> str:
    return f"redis://{link.address}/0"


def _pg(link: Link) -> str:
    return f"postgresql://postgres@{link.address}/feed"


def sut_env(
    name: str,
    links: Mapping[str, Link],
    rpc_ports: Mapping[str, int],
    api_port: int,
    *,
    bind_host: str = "127.0.0.1",
    amqp_credentials: str = "guest:guest",
) -> dict[str, str]:
    """The FEED_* variables of one SUT process (before the caller's overrides).

    ``bind_host``: where the API and RPC services listen (0.0.0.0 in a container);
    ``amqp_credentials``: "user:password" on the broker.
    """
    if name == "api":
        return {
            "FEED_API_LISTEN": f"{bind_host}:{api_port}",
            "FEED_FEED_RPC_ADDR": links["api__feed_rpc"].address,
            "FEED_CARD_RPC_ADDR": links["api__card_rpc"].address,
            "FEED_USER_RPC_ADDR": links["api__user_rpc"].address,
            "FEED_AMQP_URL": _amqp(links["api__rabbitmq"], amqp_credentials),
        }
    if name in RPC_SERVICES:
        return {
            "FEED_RPC_LISTEN": f"{bind_host}:{rpc_ports[name]}",
            "FEED_REDIS_URL": _redis(links[f"{name}__redis"]),
            "FEED_POSTGRES_DSN": _pg(links[f"{name}__postgres"]),
        }
    if name in CONSUMERS:
        return {
            "FEED_AMQP_URL": _amqp(links[f"{name}__rabbitmq"], amqp_credentials),
            "FEED_REDIS_URL": _redis(links[f"{name}__redis"]),
            "FEED_POSTGRES_DSN": _pg(links[f"{name}__postgres"]),
        }
    raise ValueError(f"unknown SUT process {name!r}")


def sut_argv(name: str, python: str = sys.executable) -> list[str]:
    """The command of one SUT process (``python``: the interpreter, e.g. the image's)."""
    if name == "api":
        return [python, "-m", "system_under_test.api"]
    if name in RPC_SERVICES:
        return [python, "-m", "system_under_test.rpc", name.removesuffix("_rpc")]
    return [python, "-m", "system_under_test.consumers", name.removesuffix("_consumer")]


def sut_process(
    name: str,
    logs: Path,
    links: Mapping[str, Link],
    rpc_ports: Mapping[str, int],
    api_port: int,
    direct_amqp_url: str,
    overrides: Mapping[str, str] | None = None,
) -> ManagedProcess:
    env = clean_env() | sut_env(name, links, rpc_ports, api_port) | dict(overrides or {})
    env["PYTHONUNBUFFERED"] = "1"
    proc = ManagedProcess(
        name,
        sut_argv(name),
        log_path=logs / f"{name}.log",
        probe=lambda: None,  # set below: a consumer's probe needs the process itself
        env=env,
        cwd=REPO_ROOT,
        ready_bound_s=45.0,
        stop_timeout_s=10.0,
    )
    if name == "api":
        proc.probe = probes.http_ok(f"http://127.0.0.1:{api_port}/healthz")
    elif name in RPC_SERVICES:
        proc.probe = probes.grpc_serving(f"127.0.0.1:{rpc_ports[name]}")
    else:
        # Ready once the broker (asked directly, not through the consumer's own
        # proxy) shows its queue consumed and the process is connected to its link.
        port = links[f"{name}__rabbitmq"].listen_port

        def connected() -> bool:
            pid = proc.pid
            return pid is not None and proc.is_running() and probes.established_to(pid, port)

        proc.probe = probes.consumer_attached(
            direct_amqp_url, CONSUMER_QUEUES[name], connected, f"port {port}"
        )
    return proc


def run_migrate(postgres_dsn: str, logs: Path, timeout_s: float = 120.0) -> None:
    """Apply the schema (idempotent) with the direct DSN."""
    log = logs / "migrate.log"
    env = clean_env() | {"FEED_POSTGRES_DSN": postgres_dsn, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        try:
            result = subprocess.run(
                [sys.executable, "-m", MIGRATE_MODULE],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                env=env,
                timeout=timeout_s,
                check=False,
                start_new_session=True,
                preexec_fn=child_setup(os.getpid()),
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError("migrate", f"did not finish within {timeout_s:.0f}s") from exc
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise StackError("migrate", f"exited with code {result.returncode}", tail)
