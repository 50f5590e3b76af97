"""The committed gRPC modules are exactly what feed.proto generates."""

from __future__ import annotations

from pathlib import Path

from system_under_test.rpc.codegen import PROTO, REPO_ROOT, generate


def test_generated_code_matches_the_proto(tmp_path: Path) -> None:
    generate(tmp_path)
    generated_dir = tmp_path / PROTO.parent
    for name in ("feed_pb2.py", "feed_pb2.pyi", "feed_pb2_grpc.py"):
        committed = (REPO_ROOT / PROTO.parent / name).read_text()
        fresh = (generated_dir / name).read_text()
        assert committed == fresh, (
            f"{name} is out of date: run python -m system_under_test.rpc.codegen"
        )
