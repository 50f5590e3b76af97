"""Our Ryuk: removes a stack's containers and network once its owner is gone.

Ryuk (testcontainers' reaper) is an image to pull, which needs a registry.
This one is a small process started by ContainerStack with a pipe on its
stdin, in a session of its own (Ctrl-C in the terminal does not reach it).
It waits for the pipe to close, which happens when the owner stopped the
stack, exited, crashed or was SIGKILLed, then removes whatever is still
labelled with the stack id and exits. After a clean stop there is nothing
left for it to do.

Run: python -m harness.containers.reaper STACK_ID  (stdin: the owner's pipe)
"""

from __future__ import annotations

import signal
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    stack_id = argv[1]
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)  # only the pipe's end stops us
    sys.stdin.buffer.read()  # EOF: the owner is done or dead

    from harness.containers import engine

    t0 = time.monotonic()
    removed = engine.remove_stack(engine.client(), stack_id)
    if removed:
        took = time.monotonic() - t0
        print(f"reaper {stack_id}: removed {', '.join(removed)} in {took:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
