"""Regenerates the gRPC modules from feed.proto (`python -m system_under_test.rpc.codegen`).

The generated files are committed; tests/test_proto_sync.py regenerates them
into a temporary folder and fails if the committed copies drifted.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO = Path("system_under_test/rpc/feed.proto")


def generate(out_dir: Path) -> None:
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    # Generating from the repo root makes the _grpc module import its messages
    # as `system_under_test.rpc.feed_pb2`, a real package path.
    args = [
        "protoc",
        f"-I{REPO_ROOT}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(REPO_ROOT / PROTO),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on " + str(PROTO))


if __name__ == "__main__":
    generate(REPO_ROOT)
    sys.exit(0)
