"""Poison messages, published straight to the exchange, end in the dead-letter queue.

Each is rejected on its first delivery (never requeued ahead of good work),
the consumer process stays up, and the valid writes sent around them all apply.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from suites import checkers
from suites.broker import BrokerClient, DeadLetter
from suites.scenario import ChaosRun
from suites.testing import assert_all_valid
from suites.waiting import poll

pytestmark = [pytest.mark.bad_input, pytest.mark.write_path]

HOUR_AGO_MS = int((time.time() - 3600) * 1000)


def _envelope(event_type: str, data: dict, occurred_at_ms: int | None = None) -> bytes:
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": event_type,
            "occurred_at_ms": occurred_at_ms or int(time.time() * 1000),
            "data": data,
        }
    ).encode()


def poison_messages(author: int) -> list[tuple[str, str, bytes]]:
    """(what, routing key, body): one of each kind of message no consumer can apply."""
    ghost = str(uuid.uuid4())
    return [
        ("garbage bytes", "post.created", b"\x00\xff\xfe not json at all"),
        ("json, not an event", "comment.created", b'{"hello": "world"}'),
        (
            "wrong field types",
            "post.created",
            _envelope("post.created", {"author_id": "one", "body": 5}),
        ),
        ("unknown event type", "like.removed", _envelope("like.removed", {"user_id": author})),
        (
            "event on the wrong queue",
            "post.created",
            _envelope(
                "like.created", {"user_id": author, "post_id": ghost, "post_author_id": author}
            ),
        ),
        (
            "comment on a post that never existed",
            "comment.created",
            _envelope(
                "comment.created",
                {"author_id": author, "post_id": ghost, "post_author_id": author, "body": "hi"},
                HOUR_AGO_MS,
            ),
        ),
        (
            "like on a post that never existed",
            "like.created",
            _envelope(
                "like.created",
                {"user_id": author, "post_id": ghost, "post_author_id": author},
                HOUR_AGO_MS,
            ),
        ),
        (
            "nickname the database cannot hold",
            "user.registered",
            _envelope("user.registered", {"user_id": author, "nickname": "a\u0000b"}),
        ),
    ]


def test_poison_is_dead_lettered_and_valid_work_flows(chaos: ChaosRun) -> None:
    broker = BrokerClient(chaos.stack.endpoints.amqp_url)
    broker.take_dead_letters()  # start from an empty dead-letter queue
    consumers = ("post_consumer", "comment_consumer", "like_consumer", "social_consumer")
    pids = {name: chaos.stack.processes[name].pid for name in consumers}
    author = chaos.fresh_user_ids(1)[0]
    sent: dict[str, str] = {}
    writes = chaos.write_workload(posts=1)
    for what, routing_key, body in poison_messages(author):
        message_id = str(uuid.uuid4())
        broker.publish_raw(routing_key, body, message_id)
        sent[message_id] = what
        writes += chaos.write_workload(posts=1)  # valid work right behind each poison

    dead: dict[str, DeadLetter] = {}

    def all_dead() -> bool:
        dead.update({d.message_id: d for d in broker.take_dead_letters()})
        return set(sent) <= set(dead)

    _, took = poll(all_dead, chaos.bounds.convergence_s, interval_s=0.2)
    missing = [sent[m] for m in sent if m not in dead]
    redelivered = [sent[m] for m in sent if m in dead and (dead[m].delivery_count or 0) > 1]
    alive = all(
        chaos.stack.processes[n].is_running() and chaos.stack.processes[n].pid == pid
        for n, pid in pids.items()
    )
    verdicts = [
        checkers.Verdict(
            "poison_dead_lettered",
            not missing and not redelivered,
            {"poison": len(sent), "dead_lettered": len(set(sent) & set(dead)), "time_s": took},
            [f"not dead-lettered: {w}" for w in missing]
            + [f"delivered more than once before dead-lettering: {w}" for w in redelivered],
        ),
        checkers.Verdict(
            "consumers_stayed_up",
            alive,
            {"pids": pids},
            [] if alive else ["a consumer process died or restarted"],
        ),
        checkers.writes_acked(writes, chaos.bounds.write_ack_s),
        *chaos.check_applied(writes),
    ]
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)
