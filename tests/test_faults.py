"""The fault registry and the always-heal guarantee of a fault's context manager."""

from __future__ import annotations

import pytest

import faults
from faults.base import REGISTRY, make_fault
from faults.composite import AllOf
from faults.toxiproxy import Toxic

NETWORK_KINDS = {
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "down",
}
PROCESS_KINDS = {"kill", "terminate", "pause", "restart"}


class RecordingToxiproxy:
    """Stands in for the Toxiproxy control API in these plumbing tests only."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.present: dict[str, list[Toxic]] = {}

    def add_toxic(self, proxy, type, attributes, stream, toxicity, name):
        self.calls.append(("add", proxy, type, stream, name, attributes))
        self.present.setdefault(proxy, []).append(Toxic(name, type, stream, toxicity, attributes))
        return name

    def toxics(self, proxy):
        return list(self.present.get(proxy, []))

    def remove_toxic(self, proxy, name):
        self.calls.append(("remove", proxy, name))
        self.present[proxy] = [t for t in self.present[proxy] if t.name != name]

    def set_enabled(self, proxy, enabled):
        self.calls.append(("enabled", proxy, enabled))


class RecordingProcess:
    def __init__(self, log: list) -> None:
        self.log, self.running = log, True

    def kill(self) -> None:
        self.log.append("kill")
        self.running = False

    def terminate(self, timeout: float = 10) -> None:
        self.log.append("terminate")
        self.running = False

    def pause(self) -> None:
        self.log.append("pause")

    def resume(self) -> None:
        self.log.append("resume")

    def start(self) -> None:
        self.log.append("start")
        self.running = True

    def spawn(self) -> None:
        if not self.running:
            self.log.append("spawn")
            self.running = True

    def is_running(self) -> bool:
        return self.running


class FakeTarget:
    def __init__(self) -> None:
        self.toxiproxy = RecordingToxiproxy()
        self.log: list[str] = []
        self.processes = {"post_consumer": RecordingProcess(self.log)}


def test_every_catalogue_kind_is_registered() -> None:
    assert set(REGISTRY) >= NETWORK_KINDS | PROCESS_KINDS


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown fault kind"):
        make_fault("meteor", target="x")


def test_toxic_on_both_streams_heals_even_when_the_body_raises() -> None:
    target = FakeTarget()
    fault = make_fault("latency", "api__card_rpc", latency=500, stream="both")
    with pytest.raises(RuntimeError), fault.applied(target) as window:
        assert len(target.toxiproxy.present["api__card_rpc"]) == 2
        raise RuntimeError("test body failed")
    assert target.toxiproxy.present["api__card_rpc"] == []
    assert window.end is not None and window.heal_started is not None
    added = [c for c in target.toxiproxy.calls if c[0] == "add"]
    assert {c[3] for c in added} == {"upstream", "downstream"}
    assert added[0][5] == {"latency": 500, "jitter": 0}


def test_down_disables_then_enables() -> None:
    target = FakeTarget()
    with make_fault("down", "api__user_rpc").applied(target):
        pass
    assert target.toxiproxy.calls == [
        ("enabled", "api__user_rpc", False),
        ("enabled", "api__user_rpc", True),
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("kill", ["kill", "spawn"]),
        ("terminate", ["terminate", "spawn"]),
        ("pause", ["pause", "resume"]),
        ("restart", ["terminate", "start"]),
    ],
)
def test_process_faults_heal(kind: str, expected: list[str]) -> None:
    target = FakeTarget()
    with make_fault(kind, "post_consumer").applied(target):
        pass
    assert target.log == expected


def test_all_of_heals_the_parts_already_injected_when_one_fails() -> None:
    target = FakeTarget()
    broken = make_fault("kill", "no_such_process")
    fault = AllOf(target="two", parts=(make_fault("pause", "post_consumer"), broken))
    with pytest.raises(KeyError), fault.applied(target):
        pass
    assert target.log == ["pause", "resume"]


def test_describe_names_kind_attributes_and_target() -> None:
    text = faults.make_fault("timeout", "api__feed_rpc").describe()
    assert text.startswith("timeout(") and text.endswith("on api__feed_rpc")
