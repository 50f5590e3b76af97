"""One OS process the harness owns: start, readiness, signals, teardown.

Every process runs in its own session (so its pid is its process group id
and signals reach its children, e.g. PostgreSQL backends or RabbitMQ's
erl_child_setup), logs stdout+stderr to one file, and gets
PR_SET_PDEATHSIG=SIGKILL so nothing outlives a SIGKILLed pytest.

PR_SET_PDEATHSIG fires when the parent *thread* that forked the child ends,
not the parent process. A restart made from a short-lived nemesis thread
would otherwise be killed when that thread returns, so every fork happens on
one long-lived daemon "spawner" thread (daemon threads end only with the
interpreter, after atexit handlers ran the graceful stop).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenacity import (
    Retrying,
    retry_if_not_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_exponential,
    wait_fixed,
)

from harness.errors import StackError

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)

Probe = Callable[[], object]  # raises until the process answers by its protocol


# -- spawning -----------------------------------------------------------------


def child_setup(parent_pid: int) -> Callable[[], None]:
    """preexec_fn: runs in the child after setsid/setuid, before exec.

    Credential changes clear the death signal, so it must be set here, after
    subprocess switched user (it does so before calling preexec_fn).
    """

    def setup() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


class _Spawner:
    """Runs Popen calls on one long-lived daemon thread (see module docstring)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], Any]) -> Any:
        if threading.current_thread() is self._thread:
            return fn()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="feedchaos-spawner", daemon=True
                )
                self._thread.start()
        fut: Future[Any] = Future()
        self._jobs.put((fn, fut))
        return fut.result()

    def _loop(self) -> None:
        while True:
            fn, fut = self._jobs.get()
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)


_SPAWNER = _Spawner()


# -- process trees ----------------------------------------------------------------
#
# Signals go to the whole tree, not just the process group: PostgreSQL puts
# every backend in its own process group (setsid), so killpg on the postmaster
# would pause or kill the postmaster alone while its backends keep serving.


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    pgid: int
    state: str  # R S D T t Z X ...
    start: int  # start time in clock ticks since boot: tells a reused pid apart


def _read_stat(pid: int | str) -> ProcInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parens: split after the last ')'.
    fields = data[data.rindex(b")") + 2 :].split()
    return ProcInfo(int(pid), int(fields[1]), int(fields[2]), fields[0].decode(), int(fields[19]))


def proc_table() -> dict[int, ProcInfo]:
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (info := _read_stat(entry.name)) is not None:
            table[info.pid] = info
    return table


def tree_of(root: int, table: dict[int, ProcInfo] | None = None) -> dict[int, ProcInfo]:
    """``root``, its descendants, and every member of its process group."""
    table = proc_table() if table is None else table
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: dict[int, ProcInfo] = {}
    todo = [root] + [i.pid for i in table.values() if i.pgid == root]
    while todo:
        pid = todo.pop()
        if pid in found or pid not in table:
            continue
        found[pid] = table[pid]
        todo.extend(children.get(pid, ()))
    return found


def pid_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    info = _read_stat(pid)
    return info is not None and info.state not in "ZX"


def _poll_until(cond: Callable[[], bool], bound_s: float, every_s: float = 0.02) -> bool:
    """Poll ``cond`` until true or ``bound_s`` elapses; returns its last value."""
    retryer = Retrying(
        stop=stop_after_delay(bound_s),
        wait=wait_fixed(every_s),
        retry=retry_if_result(lambda ok: not ok),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else False,
    )
    return bool(retryer(cond))


class _Exited(Exception):
    pass


def wait_until_ready(
    name: str,
    probe: Probe,
    is_running: Callable[[], bool],
    describe_exit: Callable[[], str],
    log_tail: Callable[[], str],
    bound_s: float,
) -> float:
    """Poll ``probe`` until it answers, for a process or a container; returns seconds.

    Fails fast when ``is_running()`` turns false; either failure is a
    StackError carrying the log tail.
    """
    t0 = time.monotonic()

    def attempt() -> None:
        if not is_running():
            raise _Exited()
        probe()

    try:
        for a in Retrying(
            stop=stop_after_delay(bound_s),
            wait=wait_exponential(multiplier=0.02, max=0.25),
            retry=retry_if_not_exception_type(_Exited),
            reraise=True,
        ):
            with a:
                attempt()
    except _Exited:
        raise StackError(name, describe_exit(), log_tail()) from None
    except Exception as exc:
        raise StackError(
            name,
            f"not ready after {bound_s:.0f}s; last probe error: {type(exc).__name__}: {exc}",
            log_tail(),
        ) from exc
    return time.monotonic() - t0


# -- the managed process --------------------------------------------------------


class ManagedProcess:
    """A process we start, watch and stop; restartable with the same command and env."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        probe: Probe,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_bound_s: float = 30.0,
        stop_signal: int = signal.SIGTERM,
        stop_timeout_s: float = 10.0,
        run_as: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env if env is not None else os.environ)
        self.cwd = cwd
        self.log_path = log_path
        self.probe = probe
        self.ready_bound_s = ready_bound_s
        self.stop_signal = stop_signal
        self.stop_timeout_s = stop_timeout_s
        self.run_as = run_as
        self.starts = 0
        self._popen: subprocess.Popen[bytes] | None = None
        self._paused = False
        self._seen: dict[int, int] = {}  # pid -> start time, this incarnation's processes
        self._lock = threading.RLock()  # fault threads and reset_faults may race

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<ManagedProcess {self.name} pid={self.pid} {state}>"

    # -- state ----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """Pid of the current (or, once it ended, the last) incarnation."""
        return self._popen.pid if self._popen is not None else None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def is_running(self) -> bool:
        """Alive (paused counts as alive)."""
        return self._popen is not None and self._popen.poll() is None

    def is_paused(self) -> bool:
        """True when we paused it or any process of its tree sits in the stopped state."""
        return self._paused or any(i.state in "Tt" for i in self._snapshot().values())

    def alive_pids(self) -> list[int]:
        """Every live process of this incarnation: leader, descendants, orphaned children."""
        return sorted(self._snapshot())

    def _snapshot(self) -> dict[int, ProcInfo]:
        """Live processes of this incarnation: its tree now, plus any seen earlier.

        Remembering (pid, start time) keeps track of children orphaned by a
        dead leader (reparented away from it) without mistaking a reused pid.
        """
        if self._popen is None:
            return {}
        table = proc_table()
        for pid, info in tree_of(self._popen.pid, table).items():
            self._seen.setdefault(pid, info.start)
        live = {}
        for pid, start in self._seen.items():
            info = table.get(pid)
            if info is not None and info.start == start and info.state not in "ZX":
                live[pid] = info
        return live

    # -- start / readiness ----------------------------------------------------

    def spawn(self) -> None:
        """Start the process without waiting for readiness (no-op when running)."""
        with self._lock:
            if self.is_running():
                return
            self._kill_tree()  # stragglers of a previous incarnation
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            kwargs: dict[str, Any] = {
                "stdin": subprocess.DEVNULL,
                "stderr": subprocess.STDOUT,
                "env": self.env,
                "cwd": self.cwd,
                "start_new_session": True,
                "close_fds": True,
                "preexec_fn": child_setup(os.getpid()),
            }
            if self.run_as and os.geteuid() == 0:
                pw = pwd.getpwnam(self.run_as)
                kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
            with open(self.log_path, "ab") as log:
                log.write(
                    f"\n=== feedchaos: start #{self.starts + 1} of {self.name} at "
                    f"{time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n".encode()
                )
                log.flush()
                kwargs["stdout"] = log
                try:
                    self._popen = _SPAWNER.run(lambda: subprocess.Popen(self.argv, **kwargs))
                except OSError as exc:
                    raise StackError(self.name, f"cannot start {self.argv[0]}: {exc}") from exc
            self._paused = False
            self._seen = {}
            self._snapshot()
            self.starts += 1

    def wait_ready(self, bound_s: float | None = None) -> float:
        """Poll the protocol probe until it answers; returns the seconds it took.

        Fails fast (StackError with the log tail) if the process exits meanwhile.
        """
        bound = self.ready_bound_s if bound_s is None else bound_s
        return wait_until_ready(
            self.name,
            self.probe,
            self.is_running,
            lambda: f"exited with code {self.returncode} before ready",
            self.log_tail,
            bound,
        )

    def start(self, bound_s: float | None = None) -> float:
        """Start (again, same command/env/ports/data) and wait ready; returns seconds."""
        t0 = time.monotonic()
        self.spawn()
        self.wait_ready(bound_s)
        return time.monotonic() - t0

    def restart(self, bound_s: float | None = None) -> float:
        self.terminate()
        return self.start(bound_s)

    # -- signals --------------------------------------------------------------

    @staticmethod
    def _send(sig: int, pids: Iterable[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def _freeze(self) -> dict[int, ProcInfo]:
        """SIGSTOP the leader first (so it cannot fork meanwhile), then snapshot its tree."""
        if self.is_running() and self._popen is not None:
            leader = self._popen.pid
            self._send(signal.SIGSTOP, [leader])
            _poll_until(lambda: (i := _read_stat(leader)) is None or i.state in "TtZX", 1.0, 0.002)
        return self._snapshot()

    def _kill_tree(self, bound_s: float = 10.0) -> None:
        """SIGKILL every live process of this incarnation and wait until all are gone."""
        if not self._snapshot():
            return
        self._send(signal.SIGKILL, self._freeze())
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(bound_s)

        def gone() -> bool:
            live = self._snapshot()
            self._send(signal.SIGKILL, live)  # anything forked in the meantime
            return not live

        if not _poll_until(gone, bound_s):
            raise StackError(self.name, f"processes {self.alive_pids()} survived SIGKILL")

    def kill(self) -> None:
        """SIGKILL the whole tree (like a container kill) and reap it."""
        with self._lock:
            self._kill_tree()
            self._paused = False

    def terminate(self, timeout: float | None = None) -> None:
        """Graceful stop: the stop signal to the leader, wait, SIGKILL after the bound."""
        with self._lock:
            if self._popen is None:
                return
            bound = self.stop_timeout_s if timeout is None else timeout
            if self._popen.poll() is None:
                self._send(self.stop_signal, [self._popen.pid])
                # A paused process would hold the stop signal pending forever.
                self._send(signal.SIGCONT, self._snapshot())
                try:
                    self._popen.wait(bound)
                except subprocess.TimeoutExpired:
                    self._kill_tree()
            # The leader is gone; give its children a moment to follow, then kill.
            if not _poll_until(lambda: not self._snapshot(), 3.0):
                self._kill_tree()
            self._paused = False

    def pause(self) -> None:
        """SIGSTOP every process of the tree (PostgreSQL backends included)."""
        with self._lock:
            self._send(signal.SIGSTOP, self._freeze())
            self._paused = True

    def resume(self) -> None:
        """SIGCONT every process of the tree."""
        with self._lock:
            self._send(signal.SIGCONT, self._snapshot())
            self._paused = False

    # -- logs -----------------------------------------------------------------

    def log_tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * 1024))
                data = f.read()
        except OSError:
            return ""
        return "\n".join(data.decode(errors="replace").splitlines()[-n:])


__all__ = [
    "ManagedProcess",
    "Probe",
    "ProcInfo",
    "child_setup",
    "pid_alive",
    "proc_table",
    "tree_of",
    "wait_until_ready",
]
