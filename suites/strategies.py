"""Hypothesis strategies for the Feed API's inputs: valid writes, and every way to get one wrong.

A request is (method, path, headers, body bytes). The invalid strategies each
break exactly one thing about an otherwise valid write, so a failure shrinks
to the one thing the API mishandled.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

MAX_ID = 2**63 - 1
MAX_BODY_BYTES = 64 * 1024  # the API's client_max_size

# Text a user may legitimately send: any code point but NUL and the surrogates.
user_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1
)
ids = st.integers(1, MAX_ID)
post_ids = st.uuids().map(str)

FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "/v1/users": {"user_id": ids, "nickname": user_text.filter(lambda t: len(t) <= 64)},
    "/v1/follows": {"follower_id": ids, "followee_id": ids},
    "/v1/posts": {"author_id": ids, "body": user_text.filter(lambda t: len(t) <= 2000)},
    "/v1/comments": {
        "author_id": ids,
        "post_id": post_ids,
        "post_author_id": ids,
        "body": user_text.filter(lambda t: len(t) <= 2000),
    },
    "/v1/likes": {"user_id": ids, "post_id": post_ids, "post_author_id": ids},
}
WRITE_PATHS = tuple(FIELDS)

# Values of the wrong JSON type for each kind of field (strict: "5" is no int).
WRONG_FOR_INT = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
WRONG_FOR_STR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
# Values of the right type that no valid write has.
OUT_OF_RANGE_INT = st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_ID + 1))
BAD_TEXT = st.one_of(st.just(""), st.text(min_size=1, max_size=5).map(lambda t: t + "\x00"))


def _is_int_field(name: str) -> bool:
    return name.endswith("_id") and name != "post_id"


@st.composite
def valid_body(draw: st.DrawFn, path: str) -> dict[str, Any]:
    return {name: draw(strategy) for name, strategy in FIELDS[path].items()}


@st.composite
def invalid_write(draw: st.DrawFn) -> tuple[str, dict[str, str], bytes, str]:
    """(path, headers, body, what is wrong): a write the API must refuse with a 4xx."""
    path = draw(st.sampled_from(WRITE_PATHS))
    body = draw(valid_body(path))
    headers = {"Content-Type": "application/json"}
    field = draw(st.sampled_from(sorted(body)))
    how = draw(
        st.sampled_from(
            [
                "missing_field",
                "extra_field",
                "wrong_type",
                "out_of_range",
                "not_an_object",
                "malformed_json",
                "empty_body",
                "huge_body",
                "wrong_content_type",
                "bad_idempotency_key",
                "false_content_encoding",
            ]
        )
    )
    raw: bytes | None = None
    if how == "missing_field":
        del body[field]
    elif how == "extra_field":
        body[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in body))] = 1
    elif how == "wrong_type":
        body[field] = draw(WRONG_FOR_INT if _is_int_field(field) else WRONG_FOR_STR)
    elif how == "out_of_range":
        if _is_int_field(field):
            body[field] = draw(OUT_OF_RANGE_INT)
        elif field == "post_id":
            body[field] = draw(st.text(max_size=20))  # not a uuid
        else:
            body[field] = draw(BAD_TEXT)
    elif how == "not_an_object":
        raw = json.dumps(
            draw(
                st.one_of(st.lists(st.integers(), max_size=3), st.text(), st.integers(), st.none())
            )
        ).encode()
    elif how == "malformed_json":
        raw = draw(st.binary(min_size=1, max_size=200).filter(_not_json))
    elif how == "empty_body":
        raw = b""
    elif how == "huge_body":
        raw = json.dumps({**body, "pad": "x" * (MAX_BODY_BYTES + 1)}).encode()
    elif how == "wrong_content_type":
        headers["Content-Type"] = draw(
            st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/xml"])
        )
    elif how == "false_content_encoding":  # says compressed, is not
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "deflate", "br", "zstd"]))
    elif how == "bad_idempotency_key":
        headers["Idempotency-Key"] = draw(
            st.one_of(
                st.just("has space"),
                st.text(
                    st.characters(min_codepoint=33, max_codepoint=126), min_size=201, max_size=300
                ),
            )
        )
    if raw is None:
        raw = json.dumps(body).encode()
    return path, headers, raw, how


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


@st.composite
def read_path_segment(draw: st.DrawFn) -> str:
    """A user id segment: anything, sometimes a valid id."""
    return draw(
        st.one_of(
            st.integers(min_value=-5, max_value=MAX_ID + 5).map(str),
            st.text(min_size=1, max_size=30),
        )
    )
