"""The one exception the harness raises when a component cannot be brought up."""

from __future__ import annotations


class StackError(RuntimeError):
    """A stack component failed to start, get ready or stop.

    ``component`` names it; ``log_tail`` holds the last lines of its log so a
    failing CI run shows why without digging through run directories.
    """

    def __init__(self, component: str, message: str, log_tail: str = "") -> None:
        text = f"[{component}] {message}"
        if log_tail:
            text += f"\n--- last lines of {component} log ---\n{log_tail}"
        super().__init__(text)
        self.component = component
        self.log_tail = log_tail
