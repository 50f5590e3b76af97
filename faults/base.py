"""The fault type, its registry, and the window it was active in."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Protocol

from faults.toxiproxy import ToxiproxyClient


class ManagedProcessLike(Protocol):
    def kill(self) -> None: ...
    def terminate(self, timeout: float = ...) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def start(self) -> None: ...  # and wait until it answers
    def spawn(self) -> None: ...  # start without waiting; a no-op when running
    def is_running(self) -> bool: ...


class Target(Protocol):
    """What a fault acts on: a stack's Toxiproxy and its processes."""

    toxiproxy: ToxiproxyClient
    processes: Mapping[str, ManagedProcessLike]


@dataclass
class FaultWindow:
    """When a fault was active, on the wall clock (for reports) and monotonic (for maths)."""

    fault: str
    start_wall: float = 0.0
    end_wall: float | None = None
    start: float = 0.0
    heal_started: float | None = None  # recovery and convergence are timed from here
    end: float | None = None  # the heal is complete (a killed process is back and ready)

    def open(self) -> None:
        self.start_wall, self.start = time.time(), time.monotonic()

    def begin_heal(self) -> None:
        self.heal_started = time.monotonic()

    def close(self) -> None:
        self.end_wall, self.end = time.time(), time.monotonic()

    def since_heal(self) -> float:
        """Seconds from the start of the heal to now."""
        assert self.heal_started is not None, "fault not healed yet"
        return time.monotonic() - self.heal_started

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "start": self.start_wall,
            "end": self.end_wall,
            "duration_s": self.duration,
            "heal_s": None
            if self.heal_started is None or self.end is None
            else self.end - self.heal_started,
        }


REGISTRY: dict[str, type[Fault]] = {}


@dataclass(frozen=True)
class Fault(ABC):
    """One fault kind: typed attributes, an inject and a heal.

    Subclasses are dataclasses registered under `kind`; `profile` is the
    pytest marker (fault profile) that selects tests using them.
    """

    kind: ClassVar[str]
    profile: ClassVar[str]
    target: str = field(default="")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:  # abstract intermediates set no kind
            if cls.kind in REGISTRY:
                raise ValueError(f"fault kind {cls.kind!r} registered twice")
            REGISTRY[cls.kind] = cls

    @abstractmethod
    def inject(self, on: Target) -> None: ...

    @abstractmethod
    def heal(self, on: Target) -> None: ...

    @contextmanager
    def applied(self, on: Target) -> Iterator[FaultWindow]:
        """Inject, yield the window, and always heal (also on errors and Ctrl-C).

        A failed inject is healed too (it may have half happened), so every
        heal must be idempotent.
        """
        window = FaultWindow(self.describe())
        window.open()
        try:
            self.inject(on)
            yield window
        finally:
            window.begin_heal()
            try:
                self.heal(on)
            finally:
                window.close()

    def leaves(self) -> tuple[Fault, ...]:
        """The single faults this one is made of (itself, for a single fault)."""
        return (self,)

    def attributes(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "target"}

    def describe(self) -> str:
        attrs = ", ".join(f"{k}={v}" for k, v in self.attributes().items())
        return (
            f"{self.kind}({attrs}) on {self.target}" if attrs else f"{self.kind} on {self.target}"
        )

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "profile": self.profile, **asdict(self)}


def make_fault(kind: str, target: str, **attributes: Any) -> Fault:
    try:
        fault_type = REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown fault kind {kind!r}; known: {sorted(REGISTRY)}") from None
    return fault_type(target=target, **attributes)
