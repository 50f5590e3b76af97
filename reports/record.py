"""What one test contributes to the report, filled in as the test runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from faults import FaultWindow
from suites.checkers import Verdict


@dataclass
class TestRecord:
    nodeid: str
    profiles: list[str] = field(default_factory=list)
    path: str | None = None  # read_path, write_path
    case: str | None = None  # contract row id + target
    row: str | None = None
    target: str | None = None
    fault: dict[str, Any] | None = None
    seed: int | None = None
    windows: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    # Time series for the plots, as [wall time, value] pairs; "backlog" is the
    # number of acknowledged writes not yet applied, sampled while converging.
    series: dict[str, list[list[float]]] = field(default_factory=dict)
    operations: int = 0
    outcome: str = "not run"  # passed, failed, skipped, error
    duration_s: float = 0.0
    message: str | None = None

    def add_window(self, window: FaultWindow) -> None:
        self.windows.append(window.to_json())

    def add_verdicts(self, verdicts: list[Verdict]) -> None:
        for verdict in verdicts:
            self.verdicts.append(verdict.to_json())
            # The headline figures (counts and times) are lifted to the test's level.
            for key in (
                "acked",
                "lost",
                "duplicated",
                "one_sided",
                "time_to_recover_s",
                "time_to_converge_s",
                "mismatched",
            ):
                if key in verdict.figures:
                    self.figures[key] = verdict.figures[key]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
