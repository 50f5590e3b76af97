"""A recorded history of operations, three-valued as in Jepsen.

ok: it happened (a 2xx). fail: it definitely did not (a 4xx, or a read that
errored). info: indeterminate (a write answered 5xx or not at all: the broker
may have it, so it may still be applied, but never twice).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "fail", "info"]
WRITE_KINDS = ("user", "follow", "post", "comment", "like")


@dataclass
class Op:
    id: int
    kind: str  # read_feed, read_view, user, follow, post, comment, like
    args: dict[str, Any]
    invoke: float  # monotonic seconds
    invoke_wall: float
    complete: float | None = None
    outcome: Outcome | None = None
    status: int | None = None  # HTTP status; None when no answer came
    response: Any = None
    error: str | None = None
    event_id: str | None = None  # for writes: the id the API answered (or would have)

    @property
    def latency(self) -> float:
        assert self.complete is not None, "op not completed"
        return self.complete - self.invoke

    @property
    def is_write(self) -> bool:
        return self.kind in WRITE_KINDS

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = None if self.complete is None else round(self.latency, 6)
        return data


@dataclass
class History:
    ops: list[Op] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_id: int = 0

    def invoke(self, kind: str, args: dict[str, Any]) -> Op:
        with self._lock:
            op = Op(self._next_id, kind, args, time.monotonic(), time.time())
            self._next_id += 1
            self.ops.append(op)
            return op

    @staticmethod
    def complete(
        op: Op, outcome: Outcome, status: int | None, response: Any, error: str | None = None
    ) -> Op:
        op.complete = time.monotonic()
        op.outcome, op.status, op.response, op.error = outcome, status, response, error
        return op

    def __iter__(self) -> Iterator[Op]:
        return iter(list(self.ops))

    def __len__(self) -> int:
        return len(self.ops)

    def between(self, start: float, end: float | None) -> list[Op]:
        """Ops invoked in [start, end) on the monotonic clock."""
        return [o for o in self if o.invoke >= start and (end is None or o.invoke < end)]

    def of_kind(self, *kinds: str) -> list[Op]:
        return [o for o in self if o.kind in kinds]

    def writes(self, outcome: Outcome | None = None) -> list[Op]:
        return [o for o in self if o.is_write and (outcome is None or o.outcome == outcome)]

    def dump_jsonl(self, path: Path, test_id: str) -> None:
        with path.open("a", encoding="utf-8") as out:
            for op in self:
                out.write(json.dumps({"test": test_id, **op.to_json()}, default=str) + "\n")

    @classmethod
    def from_ops(cls, ops: Iterable[Op]) -> History:
        history = cls()
        for op in ops:
            history.ops.append(op)
        history._next_id = len(history.ops)
        return history
