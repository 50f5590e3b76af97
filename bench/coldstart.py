"""Stack cold start, per component and in total, on the local and the containers stack.

The timings are the stacks' own (``stack.timings``): each infra process and
SUT service from its spawn to its protocol-level readiness, and the total from
``start()`` to everything ready. Every repeat is a fresh stack (new data
directories, new ports); the measured stack of the benchmark is the last one.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.stats import summarize
from harness.links import CONSUMERS, RPC_SERVICES
from harness.stack import LocalStack

COMPONENTS = ("toxiproxy", "redis", "rabbitmq", "postgres", "api", *RPC_SERVICES, *CONSUMERS)
STEPS = ("postgres_initdb", "proxies", "createdb", "migrate", "sut", "images", "total")


def summarize_timings(runs: list[Mapping[str, float]]) -> dict[str, Any]:
    """Each component's and step's seconds over the repeats (those every run has)."""
    keys = [k for k in (*COMPONENTS, *STEPS) if all(k in r for r in runs)]
    return {k: summarize([r[k] for r in runs]).to_json() for k in keys}


def start_local(
    run_dir: Path, sut_env: dict[str, str], notes: list[str], attempts: int = 2
) -> LocalStack:
    """A started LocalStack; a failed start is tried again once on fresh ports.

    On a machine shared with other engineers' stacks, a port found free can be
    taken before our process binds it (Toxiproxy then refuses a listen address);
    that says nothing about the stack, so it is noted and the start is redone.
    """
    for attempt in range(1, attempts + 1):
        stack = LocalStack(
            run_dir if attempt == 1 else run_dir.with_name(f"{run_dir.name}-{attempt}"), sut_env
        )
        try:
            stack.start()  # stops what it started when it fails
            return stack
        except Exception as exc:
            why = f"{type(exc).__name__}: {str(exc)[:300]}"
            notes.append(f"{run_dir.name}: start attempt {attempt} failed: {why}")
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def throwaway_local(run_dir: Path, sut_env: dict[str, str], notes: list[str]) -> dict[str, float]:
    stack = start_local(run_dir, sut_env, notes)
    try:
        return dict(stack.timings)
    finally:
        stack.stop()


def engine_answers(timeout_s: float = 20.0) -> tuple[bool, str]:
    try:
        done = subprocess.run(
            ["docker", "info"], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"docker info failed: {exc}"
    if done.returncode != 0:
        return False, f"docker info failed: {(done.stderr or done.stdout).strip()[:200]}"
    return True, ""


def containers(run_dir: Path, sut_env: dict[str, str], repeats: int) -> dict[str, Any]:
    """Cold starts of the containers stack, or a note on why there are none."""
    if repeats <= 0:
        return {"skipped": "not asked for (--containers 0, or --quick)"}
    ok, why = engine_answers()
    if not ok:
        return {"skipped": why}
    try:
        from harness.containers import ContainerStack, config
    except ImportError as exc:
        return {"skipped": f"containers stack unavailable: {exc}"}
    if not config.ENGINE_FILE.is_file():  # no image set picked: a build could take minutes
        return {"skipped": "no image set yet: run ./feedchaos setup --containers first"}
    runs = []
    for i in range(repeats):
        stack = ContainerStack(run_dir / f"containers-{i}", sut_env)
        t0 = time.monotonic()
        try:
            stack.start()
            runs.append(dict(stack.timings))
        except Exception as exc:  # the engine is optional: note it, keep the rest
            return {"skipped": f"containers stack did not start: {type(exc).__name__}: {exc}"}
        finally:
            stack.stop()
        runs[-1]["stop_s"] = round(time.monotonic() - t0 - runs[-1]["total"], 3)
    summary = summarize_timings(runs)
    if all("images" in r for r in runs):  # image builds are cached; what is left is start-up
        summary["total_without_images"] = summarize(
            [r["total"] - r["images"] for r in runs]
        ).to_json()
    return {"repeats": repeats, "timings": summary, "runs": runs}
