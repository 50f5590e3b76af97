"""Faults made of faults: several at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from faults.base import Fault, Target


@dataclass(frozen=True)
class AllOf(Fault):
    """Inject every part together; heal them all in reverse order, even if one heal fails."""

    kind: ClassVar[str] = "all_of"
    profile: ClassVar[str] = ""
    parts: tuple[Fault, ...] = ()

    def inject(self, on: Target) -> None:
        injected: list[Fault] = []
        try:
            for part in self.parts:
                part.inject(on)
                injected.append(part)
        except BaseException:
            _heal_all(injected, on)
            raise

    def heal(self, on: Target) -> None:
        _heal_all(list(self.parts), on)

    def describe(self) -> str:
        return " + ".join(p.describe() for p in self.parts)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "target": self.target,
            "parts": [p.to_json() for p in self.parts],
        }


def _heal_all(parts: list[Fault], on: Target) -> None:
    errors: list[BaseException] = []
    for part in reversed(parts):
        try:
            part.heal(on)
        except Exception as exc:  # heal the rest before reporting
            errors.append(exc)
    if errors:
        raise errors[0]
