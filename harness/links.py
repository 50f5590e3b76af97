"""The Toxiproxy links: one proxy per directed client -> server dependency.

Names follow docs/architecture.md: ``<client>__<server>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RPC_SERVICES = ("feed_rpc", "card_rpc", "user_rpc")
CONSUMERS = ("post_consumer", "comment_consumer", "like_consumer", "social_consumer")
INFRA_SERVERS = ("redis", "rabbitmq", "postgres")


def link_pairs() -> list[tuple[str, str]]:
    """(client, server) for all 22 links, in a stable order."""
    pairs = [("api", rpc) for rpc in RPC_SERVICES] + [("api", "rabbitmq")]
    pairs += [(rpc, store) for rpc in RPC_SERVICES for store in ("redis", "postgres")]
    pairs += [(c, srv) for c in CONSUMERS for srv in ("rabbitmq", "redis", "postgres")]
    return pairs


def link_name(client: str, server: str) -> str:
    return f"{client}__{server}"


@dataclass(frozen=True)
class Link:
    """One proxy: Toxiproxy binds ``listen``, forwards to ``upstream``; clients dial ``address``."""

    name: str
    listen: str  # where Toxiproxy binds: "127.0.0.1:port" (local), "0.0.0.0:port" (container)
    upstream: str  # the real server as Toxiproxy reaches it: "127.0.0.1:port", "postgres:5432"
    dial: str = ""  # where clients connect when that is not `listen` ("toxiproxy:port")

    @property
    def address(self) -> str:
        """What a client of this link connects to."""
        return self.dial or self.listen

    @property
    def client(self) -> str:
        return self.name.split("__", 1)[0]

    @property
    def server(self) -> str:
        return self.name.split("__", 1)[1]

    @property
    def listen_port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def upstream_port(self) -> int:
        return int(self.upstream.rsplit(":", 1)[1])

    def to_populate(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": True,
        }


def build_links(server_ports: dict[str, int], listen_ports: list[int]) -> dict[str, Link]:
    """Local stack: each link on a loopback port, to its server's real loopback port."""
    upstreams = {server: f"127.0.0.1:{port}" for server, port in server_ports.items()}
    return make_links(upstreams, listen_ports, bind_host="127.0.0.1")


def make_links(
    upstreams: Mapping[str, str],
    listen_ports: Sequence[int],
    *,
    bind_host: str,
    dial_host: str | None = None,
) -> dict[str, Link]:
    """Pair each link with a listen port and its server's address (``upstreams[server]``).

    ``dial_host``: the name clients use for the Toxiproxy host when it differs
    from ``bind_host`` (containers bind 0.0.0.0 and are dialled by network alias).
    """
    pairs = link_pairs()
    if len(listen_ports) != len(pairs):
        raise ValueError(f"need {len(pairs)} listen ports, got {len(listen_ports)}")
    links = {}
    for (client, server), port in zip(pairs, listen_ports, strict=True):
        name = link_name(client, server)
        dial = f"{dial_host}:{port}" if dial_host else ""
        links[name] = Link(name, f"{bind_host}:{port}", upstreams[server], dial)
    return links
