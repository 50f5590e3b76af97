"""The containers stack's wiring, checked without Docker: links, SUT env, settings, probes."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from harness.containers import config, specs, wheels
from harness.links import build_links, link_pairs
from harness.ports import PORT_MIN
from harness.probes import established_in_table


def test_every_link_goes_through_the_toxiproxy_container_by_alias() -> None:
    links = specs.container_links()
    assert len(links) == len(link_pairs()) == 22
    ports = [link.listen_port for link in links.values()]
    assert len(set(ports)) == 22 and all(PORT_MIN <= p < 32768 for p in ports)
    for link in links.values():
        assert link.listen == f"0.0.0.0:{link.listen_port}"
        assert link.address == f"toxiproxy:{link.listen_port}"
        host, _, port = link.upstream.rpartition(":")
        assert host == specs.alias(link.server) and "_" not in host
        assert int(port) == specs.SERVER_PORTS[link.server]
    assert links["post_consumer__postgres"].upstream == "postgres:5432"
    assert links["api__feed_rpc"].upstream == "feed-rpc:50051"


def test_local_links_are_dialled_where_toxiproxy_listens() -> None:
    links = build_links({"redis": 1, "rabbitmq": 2, "postgres": 3} | dict.fromkeys(
        ("feed_rpc", "card_rpc", "user_rpc"), 4), list(range(20000, 20022)))  # fmt: skip
    for link in links.values():
        assert link.dial == "" and link.address == link.listen.replace("0.0.0.0", "127.0.0.1")
        assert link.listen.startswith("127.0.0.1:")


def test_sut_containers_listen_on_all_addresses_and_dial_their_own_links() -> None:
    links = specs.container_links()
    by_name = {s.name: s for s in specs.sut_specs(links, {"FEED_READ_BUDGET_MS": "1000"})}
    assert set(by_name) == {
        "api", "feed_rpc", "card_rpc", "user_rpc",
        "post_consumer", "comment_consumer", "like_consumer", "social_consumer",
    }  # fmt: skip
    api = by_name["api"].env
    assert api["FEED_API_LISTEN"] == f"0.0.0.0:{specs.API_PORT}"
    assert api["FEED_CARD_RPC_ADDR"] == links["api__card_rpc"].address
    assert api["FEED_AMQP_URL"] == f"amqp://feedchaos:feedchaos@{links['api__rabbitmq'].address}/"
    assert by_name["feed_rpc"].env["FEED_RPC_LISTEN"] == f"0.0.0.0:{specs.RPC_PORT}"
    assert by_name["like_consumer"].env["FEED_POSTGRES_DSN"] == (
        f"postgresql://postgres@{links['like_consumer__postgres'].address}/feed"
    )
    assert all(s.env["FEED_READ_BUDGET_MS"] == "1000" for s in by_name.values())
    assert by_name["api"].ports == (specs.API_PORT,) and by_name["post_consumer"].ports == ()
    assert by_name["card_rpc"].command == ("python", "-m", "system_under_test.rpc", "card")


def test_the_broker_gets_a_user_that_may_log_in_from_another_host() -> None:
    rabbit = next(s for s in specs.infra_specs() if s.name == "rabbitmq")
    conf = rabbit.files[specs.RABBITMQ_CONF_PATH].decode()
    assert "default_user = feedchaos" in conf and "guest" not in conf
    assert rabbit.env["RABBITMQ_CONFIG_FILE"] == specs.RABBITMQ_CONF_PATH
    toxiproxy = next(s for s in specs.infra_specs() if s.name == "toxiproxy")
    assert toxiproxy.command is not None and toxiproxy.command[:2] == ("-host", "0.0.0.0")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_image_names_come_from_the_chosen_set_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = "\n".join(f"FEEDCHAOS_IMAGE_{r.upper()}={r}:official" for r in config.ROLES)
    _write(tmp_path / "registry.env", f"# defaults\nFEEDCHAOS_BASE_IMAGE=debian:x\n{names}\n")
    _write(tmp_path / "local.env", "FEEDCHAOS_BASE_IMAGE=feedchaos/debian:x\n"
           "FEEDCHAOS_IMAGE_REDIS=feedchaos/redis:x\n")  # fmt: skip
    engine = _write(tmp_path / "engine.env", "FEEDCHAOS_IMAGES=local\nTC_HOST=127.0.0.1\n")
    monkeypatch.setattr(config, "IMAGES_DIR", tmp_path)
    monkeypatch.setattr(config, "DEFAULTS_FILE", tmp_path / "registry.env")
    monkeypatch.setattr(config, "ENGINE_FILE", engine)
    monkeypatch.delenv("FEEDCHAOS_IMAGES", raising=False)
    monkeypatch.setenv("FEEDCHAOS_IMAGE_POSTGRES", "mirror/postgres:15")

    images = config.load_images()
    assert images.base == "feedchaos/debian:x"
    assert images["redis"] == "feedchaos/redis:x" and images.built_here("redis")
    assert images["rabbitmq"] == "rabbitmq:official" and not images.built_here("rabbitmq")
    assert images["postgres"] == "mirror/postgres:15"

    monkeypatch.setenv("FEEDCHAOS_IMAGES", "nonexistent")
    with pytest.raises(ValueError, match="nonexistent"):
        config.load_images()


def test_mapped_ports_are_reached_on_loopback_unless_the_engine_is_remote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("TESTCONTAINERS_HOST_OVERRIDE", "TC_HOST", "DOCKER_HOST"):
        monkeypatch.delenv(var, raising=False)
    assert config.engine_host() == "127.0.0.1" and config.bind_address("127.0.0.1") == "127.0.0.1"
    monkeypatch.setenv("DOCKER_HOST", "tcp://docker.example:2375")
    assert config.engine_host() == "docker.example"
    assert config.bind_address("docker.example") == "0.0.0.0"


def test_an_established_connection_is_found_by_remote_port() -> None:
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
        "   1: 0500150A:A1B2 0200150A:4E31 01 00000000:00000000 00:00000000 00000000     0\n"
        "   2: 0500150A:A1B4 0200150A:4E32 06 00000000:00000000 00:00000000 00000000     0\n"
    )
    assert established_in_table(table, 0x4E31)
    assert not established_in_table(table, 0x4E32)  # TIME_WAIT
    assert not established_in_table(table, 0x1F90)  # a listener, not a connection
    assert established_in_table(table, 0x4E31, "0200150A")
    assert not established_in_table(table, 0x4E31, "0300150A")


def test_wheel_markers_are_those_of_the_image_python() -> None:
    env_old = wheels._marker_env("3.11.2")
    env_new = wheels._marker_env("3.11.7")
    below = Requirement('async-timeout>=4.0.3; python_full_version < "3.11.3"')
    assert wheels._applies(below, env_old, set())
    assert not wheels._applies(below, env_new, set())
    extra = Requirement('psycopg-binary==3.2; extra == "binary"')
    assert wheels._applies(extra, env_new, {"binary"})
    assert not wheels._applies(extra, env_new, set())


def test_the_sut_image_gets_only_what_the_sut_imports() -> None:
    names = {Requirement(r).name for r in wheels.sut_requirements()}
    assert {"aiohttp", "grpcio", "aio-pika", "redis", "psycopg"} <= names
    assert not names & {"pytest", "hypothesis", "matplotlib", "testcontainers", "jinja2"}
