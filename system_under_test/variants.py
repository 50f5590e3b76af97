"""Deliberately broken variants of the feed system, to prove the suites catch them.

Each is a classic resilience bug, switched on by naming it in FEED_VARIANT
and implemented where the code it breaks lives (search for `variants.active`).
The default, with FEED_VARIANT unset, is the correct system.
"""

from __future__ import annotations

import os

CATALOGUE: dict[str, str] = {
    "ack_before_confirm": "the API answers 202 without waiting for the publisher confirm",
    "non_persistent": "messages are published non-persistent",
    "non_durable_queues": "queues are declared non-durable (classic, not quorum)",
    "ack_before_commit": "consumers ack on receipt, before the change is committed",
    "no_dedupe": "consumers apply a redelivered event again (no event-id dedupe)",
    "rpc_no_deadline": "the API calls Card RPC without a deadline",
    "partial_feed": "the API returns the posts it has when Card or User RPC fails",
    "swallows_cache_error": "consumers ack although the cache write failed: cache behind database",
    "no_resume_after_broker_restart": "consumers do not consume again after the broker restarts",
    "poison_requeued_forever": "a message that cannot be applied is requeued, never dead-lettered",
    "retries_past_deadline": "RPC store retries ignore the read deadline",
    "one_sided_no_transaction": "the two sides of a comment or like are separate commits",
}

ENV = "FEED_VARIANT"


def current() -> str | None:
    name = os.environ.get(ENV) or None
    if name is not None and name not in CATALOGUE:
        raise SystemExit(f"{ENV}={name!r} is not a known variant: {sorted(CATALOGUE)}")
    return name


def active(name: str) -> bool:
    """Is the bug `name` switched on? (A typo in `name` fails loudly, not silently.)"""
    if name not in CATALOGUE:
        raise KeyError(f"no variant {name!r}")
    return current() == name
