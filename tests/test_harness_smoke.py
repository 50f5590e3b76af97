"""Smoke test of the local harness: a real stack, real faults, clean teardown.

Run: .venv/bin/python -m pytest tests/test_harness_smoke.py -p no:cacheprovider
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import psycopg
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from harness import LocalStack
from harness.ports import is_bindable
from harness.probes import amqp_handshake
from harness.process import pid_alive

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    s = LocalStack(Path(tmp_path_factory.mktemp("stack")))
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def _heal(stack: LocalStack) -> Iterator[None]:
    yield
    if stack.processes["toxiproxy"].is_running():  # not after the teardown test
        stack.reset_faults()


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def _via(stack: LocalStack, link: str, scheme: str) -> str:
    listen = stack.endpoints.links[link].listen
    return {
        "redis": f"redis://{listen}/0",
        "postgres": f"postgresql://postgres@{listen}/feed",
        "amqp": f"amqp://guest:guest@{listen}/",
    }[scheme]


def test_every_link_is_a_proxy_to_its_server(stack: LocalStack) -> None:
    proxies = stack.toxiproxy.proxies()
    assert set(proxies) == set(stack.endpoints.links)
    assert len(proxies) == 22
    for name, link in stack.endpoints.links.items():
        assert proxies[name].upstream == link.upstream
        assert proxies[name].enabled and not proxies[name].toxics


def test_infra_answers_by_protocol_through_its_proxy(stack: LocalStack) -> None:
    assert _redis(_via(stack, "feed_rpc__redis", "redis")).ping()
    dsn = _via(stack, "card_rpc__postgres", "postgres")
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    amqp_handshake(_via(stack, "post_consumer__rabbitmq", "amqp"))()
    with grpc.insecure_channel(stack.endpoints.links["api__feed_rpc"].listen) as channel:
        resp = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=2
        )
    assert resp.status == health_pb2.HealthCheckResponse.SERVING
    assert httpx.get(f"{stack.endpoints.api_url}/healthz", timeout=2).status_code == 200


def test_disabled_proxy_refuses_and_reset_heals(stack: LocalStack) -> None:
    url = _via(stack, "feed_rpc__redis", "redis")
    stack.toxiproxy.set_enabled("feed_rpc__redis", False)
    with pytest.raises(redis.ConnectionError):
        _redis(url).ping()
    assert _redis(_via(stack, "card_rpc__redis", "redis")).ping()  # other links unaffected
    stack.toxiproxy.reset()
    assert stack.toxiproxy.get_proxy("feed_rpc__redis").enabled
    assert _redis(url).ping()


def test_toxic_is_listed_and_reset_removes_it(stack: LocalStack) -> None:
    name = stack.toxiproxy.add_toxic("user_rpc__redis", "latency", {"latency": 50})
    assert [t.name for t in stack.toxiproxy.toxics("user_rpc__redis")] == [name]
    stack.toxiproxy.reset()
    assert stack.toxiproxy.toxics("user_rpc__redis") == []


def test_killed_redis_starts_again_on_its_port(stack: LocalStack) -> None:
    proc = stack.processes["redis"]
    old_pid = proc.pid
    proc.kill()
    assert not proc.is_running() and not pid_alive(old_pid)
    with pytest.raises(redis.ConnectionError):
        _redis(stack.endpoints.redis_url).ping()
    proc.start()
    assert proc.pid != old_pid
    assert _redis(stack.endpoints.redis_url).ping()
    assert _redis(_via(stack, "like_consumer__redis", "redis")).ping()


def test_paused_postgres_is_resumed_by_reset_faults(stack: LocalStack) -> None:
    proc = stack.processes["postgres"]
    proc.pause()
    assert proc.is_paused()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(stack.endpoints.postgres_dsn, connect_timeout=1).close()
    stack.reset_faults()
    assert "resume postgres" in stack.last_reset
    assert not proc.is_paused()
    with psycopg.connect(stack.endpoints.postgres_dsn, connect_timeout=2) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_reset_faults_restarts_a_killed_consumer(stack: LocalStack) -> None:
    proc = stack.processes["like_consumer"]
    proc.kill()
    stack.reset_faults()
    assert "restart like_consumer" in stack.last_reset
    assert proc.is_running()


def test_a_write_is_applied_end_to_end(stack: LocalStack) -> None:
    api = stack.endpoints.api_url
    assert (
        httpx.post(f"{api}/v1/users", json={"user_id": 7, "nickname": "smoke"}).status_code == 202
    )
    resp = httpx.post(f"{api}/v1/posts", json={"author_id": 7, "body": "hello"}, timeout=5)
    assert resp.status_code == 202, resp.text
    post_id = resp.json()["post_id"]
    for attempt in Retrying(
        stop=stop_after_delay(20),
        wait=wait_fixed(0.2),
        retry=retry_if_exception_type(AssertionError),
        reraise=True,
    ):
        with attempt:
            posts = httpx.get(f"{api}/v1/users/7/posts", timeout=5)
            assert posts.status_code == 200 and post_id in posts.text, posts.text


def test_stop_leaves_no_process_and_frees_every_port(stack: LocalStack) -> None:
    pids = stack.all_pids()  # leaders, PostgreSQL backends, erl_child_setup, ...
    assert len(pids) >= len(stack.processes)
    ports = stack.all_ports()
    stack.stop()
    assert [p for p in pids if pid_alive(p)] == []
    assert [p for p in ports if not is_bindable(p, reuse_addr=True)] == []
    stack.stop()  # idempotent
