"""Process faults: kill, terminate, pause and restart a managed process.

Healing a killed or terminated process starts it again without waiting for it
to be ready: coming back is the system's recovery, which the suites measure
(and it may rightly take a while, e.g. while another fault still cuts the
process off). Healing a paused one resumes it. A restart is one action: it
returns when the process answers again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from faults.base import Fault, Target


@dataclass(frozen=True)
class Kill(Fault):
    """SIGKILL: no chance to clean up, in-flight work is lost to the process."""

    kind: ClassVar[str] = "kill"
    profile: ClassVar[str] = "process_kill"

    def inject(self, on: Target) -> None:
        on.processes[self.target].kill()

    def heal(self, on: Target) -> None:
        on.processes[self.target].spawn()  # a no-op when it runs


@dataclass(frozen=True)
class Terminate(Kill):
    """SIGTERM: a graceful stop."""

    kind: ClassVar[str] = "terminate"
    profile: ClassVar[str] = "process_kill"

    def inject(self, on: Target) -> None:
        on.processes[self.target].terminate()


@dataclass(frozen=True)
class Pause(Fault):
    """SIGSTOP: the process holds its sockets but answers nothing."""

    kind: ClassVar[str] = "pause"
    profile: ClassVar[str] = "process_pause"

    def inject(self, on: Target) -> None:
        on.processes[self.target].pause()

    def heal(self, on: Target) -> None:
        on.processes[self.target].resume()


@dataclass(frozen=True)
class Restart(Fault):
    """Stop (gracefully, or with SIGKILL) and start again at once; healing is a no-op."""

    kind: ClassVar[str] = "restart"
    profile: ClassVar[str] = "process_kill"
    graceful: bool = True

    def inject(self, on: Target) -> None:
        process = on.processes[self.target]
        if self.graceful:
            process.terminate()
        else:
            process.kill()
        process.start()

    def heal(self, on: Target) -> None:
        on.processes[self.target].spawn()
