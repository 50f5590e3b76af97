"""What each container of the stack runs: image role, command, environment, ports.

Process names and link names are the local stack's (harness/links.py); a
container's network alias is its name with "-" for "_" (hostnames take no
"_"). Servers listen on their usual ports inside their own container;
Toxiproxy's proxies listen on LINK_PORT_BASE.. inside the Toxiproxy container
and forward to the servers by alias; every SUT address is ``toxiproxy:<port>``.
The commands and variables work with the official images and with the ones
built from images/*.Dockerfile alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness import sut
from harness.links import INFRA_SERVERS, RPC_SERVICES, Link, link_pairs, make_links

TOXIPROXY_API_PORT = 8474
API_PORT = 8080
RPC_PORT = 50051
SERVER_PORTS = {"redis": 6379, "rabbitmq": 5672, "postgres": 5432} | dict.fromkeys(
    RPC_SERVICES, RPC_PORT
)
LINK_PORT_BASE = 20001  # inside the Toxiproxy container, below the ephemeral range

# The broker's own user: RabbitMQ refuses "guest" except over loopback, and a
# mapped port or another container is not loopback.
AMQP_USER = "feedchaos"
AMQP_PASSWORD = "feedchaos"  # a throwaway broker on a private network
AMQP_CREDENTIALS = f"{AMQP_USER}:{AMQP_PASSWORD}"
RABBITMQ_CONF_PATH = "/etc/rabbitmq/feedchaos.conf"
RABBITMQ_CONF = f"""\
default_user = {AMQP_USER}
default_pass = {AMQP_PASSWORD}
disk_free_limit.absolute = 50MB
""".encode()

# As the local stack runs them (harness/infra.py): a cache that starts empty,
# a database tuned for tests, not for durability across machine crashes.
REDIS_COMMAND = (
    "redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no",
    "--save", "", "--appendonly", "no",
)  # fmt: skip
POSTGRES_COMMAND = (
    "postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
    "-c", "full_page_writes=off", "-c", "max_connections=200",
)  # fmt: skip


def alias(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True)
class Spec:
    name: str  # the process name the suites use ("feed_rpc", "rabbitmq")
    role: str  # which image: toxiproxy, redis, rabbitmq, postgres, sut
    command: tuple[str, ...] | None  # None: the image's own
    env: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()  # container ports the test process reaches (mapped)
    files: dict[str, bytes] = field(default_factory=dict)  # copied in before the first start
    ready_bound_s: float = 45.0
    stop_timeout_s: float = 10.0

    @property
    def alias(self) -> str:
        return alias(self.name)


def container_links() -> dict[str, Link]:
    """The 22 links: Toxiproxy binds 0.0.0.0:<port>, clients dial toxiproxy:<port>."""
    upstreams = {s: f"{alias(s)}:{SERVER_PORTS[s]}" for s in (*INFRA_SERVERS, *RPC_SERVICES)}
    ports = list(range(LINK_PORT_BASE, LINK_PORT_BASE + len(link_pairs())))
    return make_links(upstreams, ports, bind_host="0.0.0.0", dial_host="toxiproxy")


def infra_specs() -> list[Spec]:
    return [
        # -host: with only -port, the API would bind "localhost" (a Toxiproxy pitfall).
        Spec(
            "toxiproxy",
            "toxiproxy",
            ("-host", "0.0.0.0", "-port", str(TOXIPROXY_API_PORT)),
            ports=(TOXIPROXY_API_PORT,),
            ready_bound_s=15.0,
            stop_timeout_s=5.0,
        ),
        Spec(
            "redis",
            "redis",
            REDIS_COMMAND,
            ports=(6379,),
            ready_bound_s=15.0,
            stop_timeout_s=5.0,
        ),
        Spec(
            "rabbitmq",
            "rabbitmq",
            None,
            env={"RABBITMQ_CONFIG_FILE": RABBITMQ_CONF_PATH},
            ports=(5672,),
            files={RABBITMQ_CONF_PATH: RABBITMQ_CONF},
            ready_bound_s=90.0,  # 5-10 s cold; quorum queue recovery after a kill adds more
            stop_timeout_s=30.0,
        ),
        Spec(
            "postgres",
            "postgres",
            POSTGRES_COMMAND,
            env={"POSTGRES_HOST_AUTH_METHOD": "trust"},
            ports=(5432,),
            ready_bound_s=60.0,
            stop_timeout_s=15.0,
        ),
    ]


def sut_specs(links: Mapping[str, Link], overrides: Mapping[str, str]) -> list[Spec]:
    """The eight SUT containers; API and RPC ports are mapped for the readiness probes."""
    specs = []
    for name in sut.SUT_NAMES:
        env = sut.sut_env(
            name,
            links,
            dict.fromkeys(RPC_SERVICES, RPC_PORT),
            API_PORT,
            bind_host="0.0.0.0",
            amqp_credentials=AMQP_CREDENTIALS,
        )
        ports: tuple[int, ...] = ()
        if name == "api":
            ports = (API_PORT,)
        elif name in RPC_SERVICES:
            ports = (RPC_PORT,)
        specs.append(
            Spec(
                name,
                "sut",
                tuple(sut.sut_argv(name, python="python")),
                env=env | dict(overrides),
                ports=ports,
            )
        )
    return specs
