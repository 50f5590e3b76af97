"""The event schema: what the API accepts is what consumers apply; anything else is poison."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from system_under_test.messaging import events


def test_idempotency_key_makes_the_same_event_id_for_the_same_request_only() -> None:
    post = events.PostCreated(author_id=1, body="hello")
    a = events.new_event_id("post.created", "key-1", post)
    assert a == events.new_event_id(
        "post.created", "key-1", events.PostCreated(author_id=1, body="hello")
    )
    # The same key on another request is another event: never merged away.
    assert a != events.new_event_id(
        "post.created", "key-1", events.PostCreated(author_id=2, body="hello")
    )
    assert a != events.new_event_id(
        "post.created", "key-1", events.PostCreated(author_id=1, body="other")
    )
    assert a != events.new_event_id("user.registered", "key-1", post)
    assert events.new_event_id("post.created", None, post) != events.new_event_id(
        "post.created", None, post
    )


def test_envelope_round_trip() -> None:
    env = events.envelope(
        "comment.created",
        events.CommentCreated(author_id=1, post_id=uuid.uuid4(), post_author_id=2, body="hi"),
        None,
    )
    parsed, payload = events.parse_envelope(env.model_dump_json().encode())
    assert parsed == env and isinstance(payload, events.CommentCreated)


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\xff garbage",
        b"{}",
        json.dumps(
            {"event_id": str(uuid.uuid4()), "type": "post.deleted", "occurred_at_ms": 1, "data": {}}
        ).encode(),
        json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "type": "post.created",
                "occurred_at_ms": 1,
                "data": {"author_id": "1", "body": "x"},
            }
        ).encode(),
        json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "type": "like.created",
                "occurred_at_ms": 1,
                "data": {"user_id": 1, "post_id": "not-a-uuid", "post_author_id": 2},
            }
        ).encode(),
    ],
    ids=["garbage", "empty", "unknown-type", "wrong-type", "bad-uuid"],
)
def test_poison_is_rejected(body: bytes) -> None:
    with pytest.raises(ValidationError):
        events.parse_envelope(body)
