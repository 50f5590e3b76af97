"""One log format for every SUT process, so the harness's log tails read alike."""

from __future__ import annotations

import logging


def setup_logging(service: str, level: str) -> logging.Logger:
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    # aio-pika and aiormq log every reconnect attempt at INFO; keep our own lines readable.
    for noisy in ("aiormq", "aio_pika", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger(service)
