"""Faults made of faults: several at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from faults.base import Fault, Target


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

    def describe(self) -> str:
        return " + ".join(p.describe() for p in self.parts)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "target": self.target,
            "parts": [p.to_json() for p in self.parts],
        }
