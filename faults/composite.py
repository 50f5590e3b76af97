"""Faults made of faults: several at once, a partition, a flapping link, a schedule.

The time-driven ones (flapping, schedule) run their steps on a background
thread between inject and heal; their steps come from a seed, so the same
seed replays the same sequence, and `describe()` prints it.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from faults.base import Fault, Target, make_fault


@dataclass(frozen=True)
class AllOf(Fault):
    """Inject every part together; heal them all in reverse order, even if one heal fails.

    If a part fails to inject, `Fault.applied` still heals every part: heals are
    idempotent, so healing a part that never went in is harmless.
    """

    kind: ClassVar[str] = "all_of"
    profile: ClassVar[str] = ""
    parts: tuple[Fault, ...] = ()

    def inject(self, on: Target) -> None:
        for part in self.parts:
            part.inject(on)

    def heal(self, on: Target) -> None:
        errors: list[Exception] = []
        for part in reversed(self.parts):
            try:
                part.heal(on)
            except Exception as exc:  # heal the rest before reporting
                errors.append(exc)
        if errors:
            raise errors[0]

    def leaves(self) -> tuple[Fault, ...]:
        return tuple(leaf for part in self.parts for leaf in part.leaves())

    def describe(self) -> str:
        return " + ".join(p.describe() for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "parts": [p.to_json() for p in self.parts],
        }


@dataclass(frozen=True)
class Partition(AllOf):
    """A set of links cut at once (each proxy disabled); `target` names the partition."""

    kind: ClassVar[str] = "partition"
    profile: ClassVar[str] = "down"
    links: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(make_fault("down", link) for link in self.links))

    def describe(self) -> str:
        return f"partition {self.target}: {', '.join(self.links)} down"


@dataclass(frozen=True)
class Step:
    """One fault in a timed sequence: start `at_s` after inject, heal `hold_s` later."""

    at_s: float
    hold_s: float
    fault: Fault

    def describe(self) -> str:
        return f"t+{self.at_s:.2f}s for {self.hold_s:.2f}s: {self.fault.describe()}"


class _Runner:
    """Plays steps on a thread; stop() heals whatever is still active."""

    def __init__(self, steps: tuple[Step, ...], on: Target) -> None:
        self.steps, self.on = steps, on
        self.stopping = threading.Event()
        self.active: list[Fault] = []
        self.lock = threading.Lock()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._play, name="nemesis", daemon=True)

    def _play(self) -> None:
        start = time.monotonic()
        events = sorted(
            [(s.at_s, 1, s.fault) for s in self.steps]
            + [(s.at_s + s.hold_s, 0, s.fault) for s in self.steps],
            key=lambda e: (e[0], e[1]),
        )
        try:
            for at, is_inject, fault in events:
                # The schedule's own clock: waiting for the next step is the schedule itself.
                if self.stopping.wait(max(0.0, start + at - time.monotonic())):
                    return
                with self.lock:
                    if is_inject:
                        self.active.append(fault)
                        fault.inject(self.on)
                    elif fault in self.active:
                        self.active.remove(fault)
                        fault.heal(self.on)
        except BaseException as exc:
            self.errors.append(exc)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        with self.lock:
            for fault in reversed(self.active):
                fault.heal(self.on)
            self.active.clear()
        if self.errors:
            raise self.errors[0]


_RUNNERS: dict[int, _Runner] = {}


@dataclass(frozen=True)
class Schedule(Fault):
    """A seeded sequence of faults over time: a nemesis. Printable and replayable."""

    kind: ClassVar[str] = "schedule"
    profile: ClassVar[str] = ""
    seed: int = 0
    steps: tuple[Step, ...] = field(default=(), compare=False)

    def inject(self, on: Target) -> None:
        runner = _Runner(self.steps, on)
        _RUNNERS[id(self)] = runner
        runner.thread.start()

    def heal(self, on: Target) -> None:
        runner = _RUNNERS.pop(id(self), None)
        if runner is not None:
            runner.stop()

    def leaves(self) -> tuple[Fault, ...]:
        return tuple(leaf for step in self.steps for leaf in step.fault.leaves())

    def total_s(self) -> float:
        return max((s.at_s + s.hold_s for s in self.steps), default=0.0)

    def describe(self) -> str:
        lines = "; ".join(s.describe() for s in self.steps)
        return f"{self.kind}(seed={self.seed}) on {self.target}: {lines}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "seed": self.seed,
            "steps": [
                {"at_s": s.at_s, "hold_s": s.hold_s, "fault": s.fault.to_json()} for s in self.steps
            ],
        }


@dataclass(frozen=True)
class Flapping(Schedule):
    """A link going down and up: down for about half of each period, jittered by the seed."""

    kind: ClassVar[str] = "flapping"
    profile: ClassVar[str] = "down"
    duration_s: float = 3.0
    period_s: float = 0.6

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        steps, t = [], 0.0
        while t < self.duration_s:
            hold = self.period_s * rng.uniform(0.3, 0.7)
            steps.append(Step(round(t, 3), round(hold, 3), make_fault("down", self.target)))
            t += self.period_s * rng.uniform(0.8, 1.2)
        object.__setattr__(self, "steps", tuple(steps))


# What a random schedule may draw from: one fault kind per step, with its attributes.
SCHEDULE_KINDS: dict[str, dict[str, Any]] = {
    "down": {},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0, "stream": "both"},
    "latency": {"latency": 1500},
}


def random_schedule(
    seed: int,
    targets: tuple[str, ...],
    steps: int = 4,
    max_hold_s: float = 1.0,
    name: str = "nemesis",
) -> Schedule:
    """Faults on the given links, one after another with gaps: the same seed, the same run."""
    rng = random.Random(seed)
    out, t = [], 0.0
    for _ in range(steps):
        kind = rng.choice(sorted(SCHEDULE_KINDS))
        fault = make_fault(kind, rng.choice(targets), **SCHEDULE_KINDS[kind])
        hold = round(rng.uniform(0.2, max_hold_s), 3)
        out.append(Step(round(t, 3), hold, fault))
        t += hold + round(rng.uniform(0.1, 0.5), 3)
    return Schedule(target=name, seed=seed, steps=tuple(out))
