"""Wheels of the project's dependencies for the SUT image's Python, made on this machine.

The image installs them with ``--no-index``, so its build needs no package
index (nor this machine's TLS set-up). Two things make a plain ``pip wheel``
here wrong for the image:

- environment markers: the image's Python (Debian's 3.11.2) is not this one,
  and e.g. redis needs async-timeout below 3.11.3 only; pip evaluates markers
  for the running interpreter even with ``--python-version``;
- versions: the containers should run the same dependency versions as the
  local stack, i.e. this venv's.

So the closure of the dependencies the SUT imports is walked here, markers evaluated
for the image's Python, each package pinned to this venv's version when it
has one, and ``pip download --no-deps`` fetches wheels for the image's tags.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.containers.config import REPO_ROOT
from harness.errors import StackError

# Tags pip may pick for the image (x86_64 glibc >= 2.17; the image has 2.36).
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")


def project_requirements() -> list[str]:
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def sut_requirements() -> list[str]:
    """pyproject's dependencies that system_under_test/ imports (not the suites' or reports')."""
    modules: set[str] = set()
    for path in (REPO_ROOT / "system_under_test").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    by_module = metadata.packages_distributions()
    dists = {canonicalize_name(d) for m in modules for d in by_module.get(m, [])}
    return [r for r in project_requirements() if canonicalize_name(Requirement(r).name) in dists]


def _marker_env(python_version: str) -> dict[str, str]:
    major_minor = ".".join(python_version.split(".")[:2])
    return {
        "python_version": major_minor,
        "python_full_version": python_version,
        "implementation_version": python_version,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
    }


def _applies(req: Requirement, env: dict[str, str], extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate(env | {"extra": e}) for e in (extras or {""}))


def _wheel_requires(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as whl:
        name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(whl.read(name).decode())
    return headers.get_all("Requires-Dist") or []


def pins(roots: list[str], python_version: str, wheels_dir: Path) -> dict[str, str]:
    """name -> "name==version" (this venv's) or the requirement itself, for the image's Python.

    A package this venv lacks is looked up in an already downloaded wheel of
    ``wheels_dir``; one not there yet is returned unpinned, and the caller
    downloads and calls again until nothing new turns up.
    """
    env = _marker_env(python_version)
    found: dict[str, str] = {}
    extras_of: dict[str, set[str]] = {}
    todo = [(Requirement(r), set[str]()) for r in roots]
    while todo:
        req, parent_extras = todo.pop()
        if not _applies(req, env, parent_extras):
            continue
        name = canonicalize_name(req.name)
        wanted = set(req.extras)
        if name in found and wanted <= extras_of[name]:
            continue
        extras_of[name] = extras_of.get(name, set()) | wanted
        requires: list[str] = []
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            found[name] = str(Requirement(f"{req.name}{req.specifier}"))
            local = sorted(wheels_dir.glob(f"{name.replace('-', '_')}-*.whl"))
            requires = _wheel_requires(local[-1]) if local else []
        else:
            ok = req.specifier.contains(dist.version, prereleases=True)
            found[name] = f"{req.name}=={dist.version}" if ok else f"{req.name}{req.specifier}"
            requires = dist.requires or []
        todo += [(Requirement(r), extras_of[name]) for r in requires]
    return found


def download(requirements: list[str], python_version: str, wheels_dir: Path) -> None:
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    abi = "cp" + "".join(python_version.split(".")[:2])
    cmd = [
        sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
        "--python-version", python_version, "--implementation", "cp", "--abi", abi,
        *platforms, "-d", str(wheels_dir), *requirements,
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        raise StackError("images", "pip download of the SUT's wheels failed", result.stderr[-3000:])


def make(wheels_dir: Path, python_version: str) -> str:
    """Fill ``wheels_dir`` for the image; returns its requirements.txt text."""
    wheels_dir.mkdir(parents=True, exist_ok=True)
    roots = sut_requirements()
    seen: dict[str, str] = {}
    for _ in range(10):  # a new package may bring new ones: download until stable
        current = pins(roots, python_version, wheels_dir)
        if current == seen:
            break
        download(sorted(set(current.values()) - set(seen.values())), python_version, wheels_dir)
        seen = current
    return "".join(f"{line}\n" for line in sorted(seen.values()))
