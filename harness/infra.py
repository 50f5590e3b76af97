"""The infra processes: Toxiproxy, Redis, EPMD + RabbitMQ, PostgreSQL.

Each builder returns a ManagedProcess whose command, environment, ports and
data directory stay fixed, so ``start()`` after a kill or a graceful stop
brings back the same server with the same data (durable quorum queues and
persistent messages survive a broker restart).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness import probes
from harness.errors import StackError
from harness.process import ManagedProcess, child_setup

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
PG_USER = "postgres"


def clean_env() -> dict[str, str]:
    """Our environment minus variables that would steer a child elsewhere."""
    prefixes = ("FEED_", "RABBITMQ_", "ERL_", "PG")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


# -- Toxiproxy ------------------------------------------------------------------


def find_toxiproxy_server() -> str:
    found = shutil.which("toxiproxy-server")
    if found:
        return found
    local = REPO_ROOT / "bin" / "toxiproxy-server"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    raise StackError("toxiproxy", "no toxiproxy-server on PATH nor in bin/: run scripts/setup.sh")


def toxiproxy_process(logs: Path, port: int) -> ManagedProcess:
    # -host matters: without it the API binds "localhost" (maybe ::1 only).
    return ManagedProcess(
        "toxiproxy",
        [find_toxiproxy_server(), "-host", "127.0.0.1", "-port", str(port)],
        log_path=logs / "toxiproxy.log",
        probe=probes.toxiproxy(f"http://127.0.0.1:{port}"),
        env=clean_env(),
        ready_bound_s=15.0,
        stop_timeout_s=5.0,
    )


# -- Redis ----------------------------------------------------------------------


def redis_process(logs: Path, data_dir: Path, port: int) -> ManagedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        shutil.which("redis-server") or "/usr/bin/redis-server",
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(data_dir),
        "--daemonize", "no",
    ]  # fmt: skip
    return ManagedProcess(
        "redis",
        argv,
        log_path=logs / "redis.log",
        probe=probes.redis_ping(f"redis://127.0.0.1:{port}/0"),
        env=clean_env(),
        ready_bound_s=15.0,
        stop_timeout_s=5.0,
    )


# -- EPMD + RabbitMQ ----------------------------------------------------------------


def epmd_process(logs: Path, port: int) -> ManagedProcess:
    """Our own EPMD in the foreground, so no system-wide daemon is left behind."""
    env = clean_env() | {"ERL_EPMD_PORT": str(port)}
    return ManagedProcess(
        "epmd",
        [shutil.which("epmd") or "/usr/bin/epmd", "-port", str(port), "-address", "127.0.0.1"],
        log_path=logs / "epmd.log",
        probe=probes.epmd_names(port),
        env=env,
        ready_bound_s=10.0,
        stop_timeout_s=3.0,
    )


@dataclass(frozen=True)
class RabbitPorts:
    amqp: int
    dist: int
    epmd: int


def rabbitmq_process(
    logs: Path, data_dir: Path, node_name: str, ports: RabbitPorts
) -> ManagedProcess:
    home = data_dir / "home"  # the Erlang cookie lands here
    for sub in ("mnesia", "log", "home"):
        (data_dir / sub).mkdir(parents=True, exist_ok=True)
    conf = data_dir / "rabbitmq.conf"
    conf.write_text("disk_free_limit.absolute = 50MB\nloopback_users.guest = true\n")
    plugins = data_dir / "enabled_plugins"
    plugins.write_text("[].\n")  # no management plugin: faster boot, fewer ports
    env_file = data_dir / "rabbitmq-env.conf"  # keeps /etc/rabbitmq/rabbitmq-env.conf out
    env_file.write_text("")
    env = clean_env() | {
        "HOME": str(home),
        "ERL_EPMD_PORT": str(ports.epmd),
        "RABBITMQ_NODENAME": node_name,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(ports.amqp),
        "RABBITMQ_DIST_PORT": str(ports.dist),
        "RABBITMQ_MNESIA_BASE": str(data_dir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(data_dir / "log"),
        "RABBITMQ_LOGS": "-",  # to stdout, i.e. our log file
        "RABBITMQ_CONFIG_FILE": str(conf),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(data_dir / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
        "RABBITMQ_CONF_ENV_FILE": str(env_file),
        # Makes the script `exec erl` instead of forking it behind a shell: our
        # pid is then beam.smp itself, so SIGKILL/SIGSTOP/death-signal hit the VM.
        "RABBITMQ_ALLOW_INPUT": "true",
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    # -noinput: ALLOW_INPUT dropped it. -start_epmd false: never spawn a daemon
    # epmd that would outlive us. +B i: SIGINT does not open the break menu.
    argv = [str(RABBITMQ_SERVER), "-noinput", "-start_epmd", "false", "+B", "i"]
    return ManagedProcess(
        "rabbitmq",
        argv,
        log_path=logs / "rabbitmq.log",
        probe=probes.amqp_handshake(f"amqp://guest:guest@127.0.0.1:{ports.amqp}/"),
        env=env,
        cwd=data_dir,
        ready_bound_s=90.0,  # 5-10 s cold; quorum queue recovery after kill -9 adds more
        stop_timeout_s=30.0,
    )


# -- PostgreSQL -------------------------------------------------------------------


@dataclass(frozen=True)
class PgLayout:
    base: Path  # owned by the postgres OS user when we are root
    relocated: bool  # True when base lives outside run_dir (see postgres_layout)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "sock"


def _traversable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents] if p.exists())


def postgres_layout(run_dir: Path) -> PgLayout:
    """Where PostgreSQL keeps its data and socket.

    PostgreSQL refuses to run as root, so as root it runs as the ``postgres``
    user, which must reach its data dir. pytest's tmp dirs sit under a 0700
    directory, and a Unix socket path must stay under ~107 bytes; in either
    case the data goes to a private dir in /tmp (linked from run_dir/postgres).
    """
    base = run_dir / "postgres"
    as_root = os.geteuid() == 0
    short_enough = len(str(base / "sock" / ".s.PGSQL.00000")) < 100
    if short_enough and (not as_root or _traversable_by_others(run_dir)):
        base.mkdir(parents=True, exist_ok=True)
        layout = PgLayout(base, relocated=False)
    else:
        if base.is_symlink() and base.resolve().is_dir():
            layout = PgLayout(base.resolve(), relocated=True)
        else:
            layout = PgLayout(Path(tempfile.mkdtemp(prefix="feedchaos-pg-")), relocated=True)
            base.symlink_to(layout.base, target_is_directory=True)
    layout.sockets.mkdir(exist_ok=True)
    if as_root:
        pw = pwd.getpwnam(PG_USER)
        for p in (layout.base, layout.sockets):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    return layout


def postgres_initdb(layout: PgLayout, log: Path) -> None:
    """Create the cluster once (trust auth for the postgres superuser, UTF8)."""
    if (layout.data / "PG_VERSION").exists():
        return
    kwargs: dict[str, object] = {}
    if os.geteuid() == 0:
        kwargs = {"user": PG_USER, "group": PG_USER, "extra_groups": []}
    argv = [
        str(PG_BIN / "initdb"), "-D", str(layout.data), "-U", "postgres",
        "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=layout.base,
            env=clean_env(),
            timeout=120,
            check=False,
            start_new_session=True,
            preexec_fn=child_setup(os.getpid()),
            **kwargs,  # type: ignore[arg-type]
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise StackError("postgres", f"initdb failed with code {result.returncode}", tail)


def postgres_process(logs: Path, layout: PgLayout, port: int) -> ManagedProcess:
    argv = [
        str(PG_BIN / "postgres"),
        "-D", str(layout.data),
        "-p", str(port),
        "-k", str(layout.sockets),
        "-c", "listen_addresses=127.0.0.1",
        "-c", "fsync=off",
        "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off",
        "-c", "max_connections=200",
    ]  # fmt: skip
    return ManagedProcess(
        "postgres",
        argv,
        log_path=logs / "postgres.log",
        probe=probes.postgres_select1(postgres_dsn(port, "postgres")),
        env=clean_env(),
        cwd=layout.base,
        ready_bound_s=60.0,  # crash recovery after a kill can take a moment
        stop_signal=signal.SIGINT,  # "fast" shutdown: abort transactions, exit cleanly
        stop_timeout_s=15.0,
        run_as=PG_USER,
    )


def postgres_dsn(port: int, dbname: str = "feed") -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"


def postgres_create_db(port: int, dbname: str = "feed") -> None:
    with psycopg.connect(postgres_dsn(port, "postgres"), connect_timeout=5, autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            c.execute(f'CREATE DATABASE "{dbname}"')


def remove_postgres_data(layout: PgLayout, run_dir: Path) -> None:
    shutil.rmtree(layout.base, ignore_errors=True)
    link = run_dir / "postgres"
    if layout.relocated and link.is_symlink():
        link.unlink()
