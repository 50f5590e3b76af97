"""The write path: validate the syntax, publish with a confirm, answer 202.

The API never touches the stores on a write; consumers apply it later.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from system_under_test.api.errors import error_response
from system_under_test.messaging import events
from system_under_test.messaging.publisher import ConfirmingPublisher, PublishFailed

# A body the server could not even read is the client's error: a JSON 400, not a 5xx.
UNREADABLE = (web.HTTPException, HttpProcessingError, RequestPayloadError)

# Printable ASCII, as for any header value worth keeping in a log.
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

# path -> (routing key, payload model)
WRITE_ROUTES: dict[str, tuple[str, type[events.Strict]]] = {
    "/v1/users": ("user.registered", events.UserRegistered),
    "/v1/follows": ("follow.created", events.FollowCreated),
    "/v1/posts": ("post.created", events.PostCreated),
    "/v1/comments": ("comment.created", events.CommentCreated),
    "/v1/likes": ("like.created", events.LikeCreated),
}


def _validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in err["loc"]], "msg": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def make_write_handler(event_type: str, model: type[events.Strict]) -> Any:
    async def handle(request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return error_response(415, "unsupported_media_type", "send application/json")
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            # Refused before the body is touched: decoding a body that lies about its
            # encoding would fail half-way through the read.
            return error_response(415, "unsupported_content_encoding", "send an identity body")
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.match(key):
            return error_response(
                400, "bad_idempotency_key", "1-200 printable ASCII characters, no spaces"
            )
        try:
            raw = await request.read()
        except UNREADABLE as exc:  # e.g. a Content-Encoding the body does not match
            return error_response(400, "unreadable_body", f"{type(exc).__name__}: {exc}")
        try:
            payload = model.model_validate_json(raw)
        except ValidationError as exc:
            kind = "malformed_json" if _is_json_error(exc) else "invalid_body"
            return error_response(
                422 if kind == "invalid_body" else 400,
                kind,
                "request body rejected",
                errors=_validation_detail(exc),
            )
        event = events.envelope(event_type, payload, key)
        publisher: ConfirmingPublisher = request.app["publisher"]
        try:
            await publisher.publish(event)
        except PublishFailed as exc:
            # Indeterminate: the broker may or may not have it. A retry with the
            # same Idempotency-Key is the same event, so it can never duplicate.
            return error_response(
                503,
                "broker_unavailable",
                str(exc),
                dependency="rabbitmq",
                event_id=str(event.event_id),
            )
        body: dict[str, Any] = {"event_id": str(event.event_id), "status": "accepted"}
        if event_type == "post.created":
            body["post_id"] = str(event.event_id)
        return web.json_response(body, status=202)

    return handle


def _is_json_error(exc: ValidationError) -> bool:
    return any(err["type"] == "json_invalid" for err in exc.errors())
