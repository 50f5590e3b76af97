"""Free loopback ports, picked below the kernel's ephemeral range.

Outgoing connections take their source port from 32768-60999, so a listener
there can collide with a client socket (a Toxiproxy pitfall). We pick at
random in 20000-32000, check the port is bindable on 127.0.0.1 right now,
and never hand out the same port twice in this process (a stopped service
keeps its port for its restart).
"""

from __future__ import annotations

import random
import socket
import threading

PORT_MIN = 20000
PORT_MAX = 32000  # exclusive

_lock = threading.Lock()
_handed_out: set[int] = set()
# Our own generator: tests may seed the global `random` (hypothesis does), and
# two concurrent runs must not walk the same port sequence.
_rng = random.Random()


def is_bindable(port: int, host: str = "127.0.0.1", reuse_addr: bool = False) -> bool:
    """True when host:port can be bound right now.

    Without ``reuse_addr`` even a TIME_WAIT leftover makes it unbindable (what we
    want when picking a port); with it, the answer is "could a server listen
    here", which is what teardown checks need.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if reuse_addr:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            s.listen(1)
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", attempts: int = 500) -> int:
    """One free port in [PORT_MIN, PORT_MAX), never returned before in this process."""
    with _lock:
        for _ in range(attempts):
            port = _rng.randrange(PORT_MIN, PORT_MAX)
            if port in _handed_out:
                continue
            if is_bindable(port, host):
                _handed_out.add(port)
                return port
    raise RuntimeError(f"no free port in {PORT_MIN}-{PORT_MAX} after {attempts} attempts")


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    return [free_port(host) for _ in range(count)]
