"""Bad input gets a clear 4xx with a JSON error, never a 5xx; valid writes around it all apply.

Hypothesis generates the requests; a failure shrinks to the one thing the API
mishandled. The run's --seed replays the same requests.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suites import checkers
from suites.scenario import ChaosRun
from suites.strategies import MAX_ID, invalid_write, read_path_segment, user_text
from suites.testing import assert_all_valid

pytestmark = [pytest.mark.bad_input]

LIVE = settings(
    max_examples=60,
    deadline=None,  # each example is a real HTTP round trip
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@LIVE
@given(request=invalid_write())
def test_invalid_writes_get_a_4xx(chaos: ChaosRun, request: tuple) -> None:
    path, headers, body, what = request
    op = chaos.client.raw("POST", path, headers, body, what)
    verdict = checkers.bad_input_refused([op])
    assert verdict.valid, str(verdict)


@LIVE
@given(
    segment=read_path_segment(),
    view=st.sampled_from(
        [
            "feed/{}",
            "users/{}/posts",
            "users/{}/comments/sent",
            "users/{}/likes/received",
            "users/{}/likes/sideways",
        ]
    ),
)
def test_reads_of_any_id_never_crash(chaos: ChaosRun, segment: str, view: str) -> None:
    path = "/v1/" + view.format(quote(segment, safe=""))
    op = chaos.client.raw("GET", path, {}, b"", "read")
    valid_id = segment.isascii() and segment.isdigit() and 0 < int(segment) <= MAX_ID
    if valid_id and not view.endswith("sideways"):
        assert op.status == 200, f"{path}: {op.status} {op.response}"
    else:
        verdict = checkers.bad_input_refused([op])
        assert verdict.valid, str(verdict)


@pytest.mark.write_path
@settings(LIVE, max_examples=3)
@given(
    batch=st.lists(
        st.tuples(invalid_write(), user_text.filter(lambda t: len(t) <= 2000)),
        min_size=10,
        max_size=10,
    )
)
def test_service_keeps_serving_and_valid_writes_apply(chaos: ChaosRun, batch: list) -> None:
    """Bad requests interleaved with valid unicode posts: the API stays up, and every post
    applies exactly once with its text intact."""
    api_pid = chaos.stack.processes["api"].pid
    author = chaos.fresh_user_ids(1)[0]
    bad, writes = [], []
    for (path, headers, body, what), text in batch:
        bad.append(chaos.client.raw("POST", path, headers, body, what))
        writes.append(chaos.client.post(author, text, chaos.key()))
    verdicts = [
        checkers.bad_input_refused(bad),
        checkers.writes_acked(writes, chaos.bounds.write_ack_s),
    ]
    still_up = chaos.client.healthy() and chaos.stack.processes["api"].pid == api_pid
    verdicts.append(
        checkers.Verdict(
            "api_still_serving",
            still_up,
            {"pid": api_pid},
            [] if still_up else ["the API restarted or stopped"],
        )
    )
    verdicts += chaos.check_applied(writes)
    view = chaos.client.read_view(author, "posts")
    shown = {p["post_id"]: p["body"] for p in (view.response or {}).get("items", [])}
    mangled = [o.event_id for o in writes if shown.get(o.event_id) != o.args["body"]]
    verdicts.append(
        checkers.Verdict(
            "text_round_trip",
            not mangled,
            {"posts": len(writes)},
            [f"post {e}: text changed on the way" for e in mangled],
        )
    )
    chaos.record.add_verdicts(verdicts)
    assert_all_valid(verdicts, chaos)
