"""The Toxiproxy links: one proxy per directed client -> server dependency.

Names follow docs/architecture.md: ``<client>__<server>``.
"""

from __future__ import annotations

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
    """One proxy: clients dial ``listen``; Toxiproxy forwards to ``upstream``."""

    name: str
    listen: str  # "127.0.0.1:port"
    upstream: str  # "127.0.0.1:port" of the real server

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
    """Pair each link with a listen port and its server's real port."""
    pairs = link_pairs()
    if len(listen_ports) != len(pairs):
        raise ValueError(f"need {len(pairs)} listen ports, got {len(listen_ports)}")
    links = {}
    for (client, server), port in zip(pairs, listen_ports, strict=True):
        name = link_name(client, server)
        links[name] = Link(name, f"127.0.0.1:{port}", f"127.0.0.1:{server_ports[server]}")
    return links
