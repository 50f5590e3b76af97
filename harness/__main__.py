"""`python -m harness up`: start a LocalStack, print its endpoints, stop on Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from harness.infra import REPO_ROOT
from harness.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the local stack and wait for Ctrl-C")
    up.add_argument("--run-dir", type=Path, help="default: .runs/manual-<time>")
    up.add_argument("--no-sut", action="store_true", help="infra and proxies only")
    up.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="FEED_X=value",
        help="extra FEED_* setting for every SUT process (repeatable)",
    )
    args = parser.parse_args(argv)

    run_dir = args.run_dir or REPO_ROOT / ".runs" / f"manual-{time.strftime('%Y%m%d-%H%M%S')}"
    sut_env = dict(item.split("=", 1) for item in args.env)
    stack = LocalStack(run_dir, sut_env, with_sut=not args.no_sut)
    try:
        stack.start()
        info = {
            "run_dir": str(stack.run_dir),
            "endpoints": stack.endpoints.to_json(),
            "pids": {name: p.pid for name, p in stack.processes.items()},
            "timings": stack.timings,
        }
        print(json.dumps(info, indent=2), flush=True)
        print("stack is up; Ctrl-C to stop", file=sys.stderr, flush=True)
        while True:
            signal.pause()  # woken only by a signal: Ctrl-C raises KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", file=sys.stderr, flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
