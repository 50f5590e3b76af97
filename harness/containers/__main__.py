"""`python -m harness.containers images|up|sweep`: the containers stack by hand.

images   build the feedchaos/ images (cached) and pull the others (setup runs it)
up       start a ContainerStack, print its endpoints, remove it on Ctrl-C
sweep    remove the containers and networks of stacks whose owner died
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from harness.containers import config, engine, images


def _images() -> int:
    t0 = time.monotonic()
    client = engine.client()
    configured = config.load_images()
    timings = images.ensure(client, configured)
    for role, seconds in timings.items():
        print(f"[images] {configured[role]:<34} {seconds:6.1f}s", file=sys.stderr)
    print(f"[images] ready in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    return 0


def _up(run_dir: Path | None, with_sut: bool) -> int:
    from harness.containers.stack import ContainerStack

    run_dir = run_dir or config.REPO_ROOT / ".runs" / f"containers-{time.strftime('%Y%m%d-%H%M%S')}"
    stack = ContainerStack(run_dir, with_sut=with_sut)
    try:
        stack.start()
        info = {
            "run_dir": str(stack.run_dir),
            "endpoints": stack.endpoints.to_json(),
            "containers": stack.container_names(),
            "timings": stack.timings,
        }
        print(json.dumps(info, indent=2), flush=True)
        print("stack is up; Ctrl-C to stop", file=sys.stderr, flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        print("removing containers...", file=sys.stderr, flush=True)
        stack.stop()
    return 0


def _sweep() -> int:
    removed = engine.sweep(engine.client())
    print("\n".join(removed) or "nothing to remove")
    return 0


def _check() -> int:
    left = engine.leftovers(engine.client())
    if left:
        print("left behind by a finished run:\n  " + "\n  ".join(left), file=sys.stderr)
        return 1
    print("no container or network left behind", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.containers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("images", help="build or pull every image of the stack")
    up = sub.add_parser("up", help="start the containers stack and wait for Ctrl-C")
    up.add_argument("--run-dir", type=Path, help="default: .runs/containers-<time>")
    up.add_argument("--no-sut", action="store_true", help="infra and proxies only")
    sub.add_parser("sweep", help="remove what dead stacks left behind")
    sub.add_parser("check", help="fail if dead stacks left anything behind")
    args = parser.parse_args(argv)
    if args.command == "images":
        return _images()
    if args.command == "up":
        return _up(args.run_dir, not args.no_sut)
    if args.command == "check":
        return _check()
    return _sweep()


if __name__ == "__main__":
    raise SystemExit(main())
