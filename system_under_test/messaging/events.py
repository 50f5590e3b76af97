"""The events the API publishes and the consumers apply, validated on both sides.

The API validates requests with the same models it publishes, so a message
that fails validation in a consumer did not come from the API: it is poison
and goes to the dead-letter queue instead of being retried.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _storable(text: str) -> str:
    """PostgreSQL text holds no NUL, and UTF-8 has no lone surrogates: refuse them here,
    at the API, instead of accepting a write the database would later refuse."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValueError("must not contain lone surrogates")
    return text


UserId = Annotated[int, Field(gt=0, lt=2**63)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_storable)]
Nickname = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_storable)]

# A fixed namespace: the same Idempotency-Key for the same kind of write is the same event.
IDEMPOTENCY_NAMESPACE = uuid.UUID("5b8f3a52-6f1e-4c1f-9a39-2f5f0c3f6a11")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class UserRegistered(Strict):
    user_id: UserId
    nickname: Nickname


class FollowCreated(Strict):
    follower_id: UserId
    followee_id: UserId


class PostCreated(Strict):
    author_id: UserId
    body: Body


class CommentCreated(Strict):
    author_id: UserId
    post_id: uuid.UUID
    post_author_id: UserId
    body: Body


class LikeCreated(Strict):
    user_id: UserId
    post_id: uuid.UUID
    post_author_id: UserId


# routing key -> payload model; the routing key's first word picks the queue.
EVENT_TYPES: dict[str, type[Strict]] = {
    "user.registered": UserRegistered,
    "follow.created": FollowCreated,
    "post.created": PostCreated,
    "comment.created": CommentCreated,
    "like.created": LikeCreated,
}

EventType = Literal[
    "user.registered", "follow.created", "post.created", "comment.created", "like.created"
]


class Envelope(BaseModel):
    """What travels on the broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    type: EventType
    occurred_at_ms: int
    data: dict

    def payload(self) -> Strict:
        # JSON mode: uuids arrive as strings, which strict mode accepts from JSON only.
        return EVENT_TYPES[self.type].model_validate_json(json.dumps(self.data))


def new_event_id(event_type: str, idempotency_key: str | None, payload: Strict) -> uuid.UUID:
    """A keyed write's id follows from the key *and* the request: a retry of the same
    request is the same event, while another request that happens to reuse the key (another
    user, another body) is another event, never silently merged into the first."""
    if idempotency_key is None:
        return uuid.uuid4()
    request = payload.model_dump_json()  # canonical: fields in model order
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{event_type}\n{idempotency_key}\n{request}")


def envelope(event_type: str, payload: Strict, idempotency_key: str | None) -> Envelope:
    return Envelope(
        event_id=new_event_id(event_type, idempotency_key, payload),
        type=event_type,  # type: ignore[arg-type]
        occurred_at_ms=int(time.time() * 1000),
        data=payload.model_dump(mode="json"),
    )


def parse_envelope(body: bytes) -> tuple[Envelope, Strict]:
    """Raises pydantic.ValidationError (poison) on anything the API would not have sent."""
    env = Envelope.model_validate_json(body)
    return env, env.payload()
