"""Network faults: Toxiproxy toxics on one link, and the link switched off.

A toxic acts on `stream` (downstream: server to client, upstream: client to
server, or both) for a `toxicity` share of connections. Note what each does
to connections that are already open: toxics apply to them; only `down`
closes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from faults.base import Fault, Target

Stream = Literal["downstream", "upstream", "both"]


@dataclass(frozen=True)
class ToxicFault(Fault):
    """A fault that is one Toxiproxy toxic per direction."""

    toxic_type: ClassVar[str]
    stream: Stream = "downstream"
    toxicity: float = 1.0

    def toxic_attributes(self) -> dict[str, Any]:
        skip = {"target", "stream", "toxicity"}
        return {k: v for k, v in self.attributes().items() if k not in skip}

    def _streams(self) -> list[str]:
        return ["downstream", "upstream"] if self.stream == "both" else [self.stream]

    def _toxic_name(self, stream: str) -> str:
        return f"feedchaos_{self.kind}_{stream}"

    def inject(self, on: Target) -> None:
        for stream in self._streams():
            on.toxiproxy.add_toxic(
                self.target,
                self.toxic_type,
                self.toxic_attributes(),
                stream=stream,
                toxicity=self.toxicity,
                name=self._toxic_name(stream),
            )

    def heal(self, on: Target) -> None:
        present = {t.name for t in on.toxiproxy.toxics(self.target)}
        for stream in self._streams():
            if self._toxic_name(stream) in present:
                on.toxiproxy.remove_toxic(self.target, self._toxic_name(stream))


@dataclass(frozen=True)
class Latency(ToxicFault):
    kind: ClassVar[str] = "latency"
    profile: ClassVar[str] = "latency"
    toxic_type: ClassVar[str] = "latency"
    latency: int = 100  # ms added to each chunk of data
    jitter: int = 0  # ms, +/-


@dataclass(frozen=True)
class Bandwidth(ToxicFault):
    kind: ClassVar[str] = "bandwidth"
    profile: ClassVar[str] = "bandwidth"
    toxic_type: ClassVar[str] = "bandwidth"
    rate: int = 1  # KB/s


@dataclass(frozen=True)
class SlowClose(ToxicFault):
    kind: ClassVar[str] = "slow_close"
    profile: ClassVar[str] = "latency"
    toxic_type: ClassVar[str] = "slow_close"
    delay: int = 1000  # ms before the close reaches the other side


@dataclass(frozen=True)
class Blackhole(ToxicFault):
    """Toxiproxy's `timeout` toxic: data is swallowed; with timeout=0, forever."""

    kind: ClassVar[str] = "timeout"
    profile: ClassVar[str] = "blackhole"
    toxic_type: ClassVar[str] = "timeout"
    timeout: int = 0  # ms until the connection is closed; 0 = never


@dataclass(frozen=True)
class ResetPeer(ToxicFault):
    kind: ClassVar[str] = "reset_peer"
    profile: ClassVar[str] = "reset"
    toxic_type: ClassVar[str] = "reset_peer"
    timeout: int = 0  # ms before the TCP RST


@dataclass(frozen=True)
class Slicer(ToxicFault):
    kind: ClassVar[str] = "slicer"
    profile: ClassVar[str] = "slicer"
    toxic_type: ClassVar[str] = "slicer"
    average_size: int = 16  # bytes per slice
    size_variation: int = 8
    delay: int = 1000  # microseconds between slices


@dataclass(frozen=True)
class LimitData(ToxicFault):
    kind: ClassVar[str] = "limit_data"
    profile: ClassVar[str] = "reset"
    toxic_type: ClassVar[str] = "limit_data"
    bytes: int = 1024  # the connection is closed after this many bytes


@dataclass(frozen=True)
class Down(Fault):
    """The proxy disabled: new connections are refused and open ones closed."""

    kind: ClassVar[str] = "down"
    profile: ClassVar[str] = "down"

    def inject(self, on: Target) -> None:
        on.toxiproxy.set_enabled(self.target, False)

    def heal(self, on: Target) -> None:
        on.toxiproxy.set_enabled(self.target, True)
