"""The containers stack: the feed system with every service in its own container.

``ContainerStack`` has LocalStack's interface (start, stop, reset_faults,
endpoints, toxiproxy, processes, timings); ``--stack=containers`` selects it.
See harness/containers/stack.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.containers.config import apply_engine_env

# Before any module here imports testcontainers, which reads its settings
# (Ryuk, connection mode) from the environment at import time.
apply_engine_env()

if TYPE_CHECKING:
    from harness.containers.stack import ContainerStack


def __getattr__(name: str) -> Any:
    # Lazy: the reaper and the image builder need neither testcontainers nor the stack.
    if name == "ContainerStack":
        from harness.containers.stack import ContainerStack

        return ContainerStack
    raise AttributeError(name)


__all__ = ["ContainerStack"]
