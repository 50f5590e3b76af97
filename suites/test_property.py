"""A stateful property test over the live stack: writes, reads and faults, interleaved.

Hypothesis drives a RuleBasedStateMachine whose rules write, read, and inject
or heal any fault of a catalogue on any link or process. After every example
all faults are healed and the checkers judge the whole history; a failure is
shrunk to the smallest sequence of steps that still breaks a promise, and the
run's seed (printed at the start, `--seed`) replays it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from faults import Fault, make_fault
from suites import checkers
from suites.contract import RPC_SERVICES
from suites.history import Op
from suites.scenario import ChaosRun

pytestmark = [pytest.mark.property]

# What the nemesis may do: every kind of fault, on links and processes of both paths.
FAULTS: list[Fault] = [
    make_fault("kill", "post_consumer"),
    make_fault("kill", "comment_consumer"),
    make_fault("pause", "like_consumer"),
    make_fault("terminate", "comment_consumer"),
    make_fault("down", "api__card_rpc"),
    make_fault("timeout", "api__user_rpc", timeout=0),
    make_fault("reset_peer", "api__feed_rpc", timeout=0, stream="both"),
    make_fault("latency", "api__card_rpc", latency=1500),
    make_fault("down", "api__rabbitmq"),
    make_fault("down", "post_consumer__postgres"),
    make_fault("down", "comment_consumer__postgres"),
    make_fault("down", "like_consumer__postgres"),
    make_fault("down", "like_consumer__redis"),
    make_fault("timeout", "comment_consumer__rabbitmq", timeout=0),
    make_fault("kill", "card_rpc"),
]
# Slower faults (a broker or store restart costs seconds): only in the slow profile.
SLOW_FAULTS: list[Fault] = [
    make_fault("restart", "rabbitmq", graceful=False),
    make_fault("kill", "postgres"),
    make_fault("kill", "redis"),
    make_fault("pause", "rabbitmq"),
]
text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=40
)


class FeedMachine(RuleBasedStateMachine):
    """One example: three fresh users, a sequence of steps, then judgement."""

    chaos: ClassVar[ChaosRun]
    faults: ClassVar[list[Fault]] = FAULTS
    log: ClassVar[list[list[str]]]  # the steps of every example, for the report

    posts = Bundle("posts")

    def __init__(self) -> None:
        super().__init__()
        self.chaos.stack.reset_faults()
        self.reader, *self.authors = self.chaos.fresh_user_ids(3)
        self.active: dict[str, Fault] = {}
        self.writes: list[Op] = []
        self.reads: list[Op] = []
        self.steps: list[str] = []
        self.log.append(self.steps)

    @initialize()
    def follow_authors(self) -> None:
        for author in self.authors:
            self.writes.append(self.chaos.client.follow(self.reader, author, self.chaos.key()))

    @rule(target=posts, author=st.sampled_from([0, 1]), body=text)
    def post(self, author: int, body: str) -> Any:
        op = self.chaos.client.post(self.authors[author], body, self.chaos.key())
        self.writes.append(op)
        self.steps.append(f"post by author {author}: {op.status}")
        if op.event_id is None:  # no answer at all: there is no post id to refer to
            return multiple()
        return (op.event_id, self.authors[author])

    @rule(target=posts, author=st.sampled_from([0, 1]), body=text)
    def post_with_reactions(self, author: int, body: str) -> Any:
        """A post, and the reader's comment and like on it right away: all three consumers."""
        made = self.post(author, body)
        if isinstance(made, tuple):
            self.comment(made, body)
            self.like(made)
        return made

    @rule(post=posts, body=text)
    def comment(self, post: tuple[str, int], body: str) -> None:
        op = self.chaos.client.comment(self.reader, post[0], post[1], body, self.chaos.key())
        self.writes.append(op)
        self.steps.append(f"comment: {op.status}")

    @rule(post=posts)
    def like(self, post: tuple[str, int]) -> None:
        op = self.chaos.client.like(self.reader, post[0], post[1], self.chaos.key())
        self.writes.append(op)
        self.steps.append(f"like: {op.status}")

    @rule()
    def read_feed(self) -> None:
        op = self.chaos.client.read_feed(self.reader)
        self.reads.append(op)
        self.steps.append(f"read: {op.status}")

    @rule(seconds=st.sampled_from([0.5, 2.5]))
    def hold(self, seconds: float) -> None:
        """Time passes with the faults on (reading meanwhile): retries run out, timeouts fire."""
        ops = self.chaos.read_for(seconds, lambda: self.chaos.client.read_feed(self.reader))
        self.reads += ops
        self.steps.append(f"hold {seconds}s ({len(ops)} reads)")

    @rule(data=st.data())
    def inject(self, data: st.DataObject) -> None:
        chosen = data.draw(st.sampled_from(self.faults), label="fault")
        if chosen.target in self.active:
            return  # one fault per target at a time
        chosen.inject(self.chaos.stack)
        self.active[chosen.target] = chosen
        self.steps.append(f"inject {chosen.describe()}")

    @precondition(lambda self: self.active)
    @rule(data=st.data())
    def heal(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(self.active)))
        fault = self.active.pop(target)
        fault.heal(self.chaos.stack)
        self.steps.append(f"heal {fault.describe()}")

    def teardown(self) -> None:
        """Heal everything, retry what was indeterminate, converge, judge."""
        for fault in reversed(list(self.active.values())):
            fault.heal(self.chaos.stack)
        self.active.clear()
        chaos = self.chaos
        _, retries = chaos.retry_unacked(self.writes)
        verdicts = [
            checkers.writes_ok_or_rejected(self.writes, chaos.bounds.reject_bound_s),
            *chaos.check_applied(self.writes + retries, give_up_when_stalled_s=3.0),
        ]
        if self.reads:
            verdicts.append(
                checkers.reads_ok_or_fail_cleanly(
                    self.reads, None, set(RPC_SERVICES), chaos.bounds.read_bound_s
                )
            )
        chaos.record.add_verdicts(verdicts)
        failed = [v for v in verdicts if not v.valid]
        if failed:
            steps = "\n  ".join(self.steps)
            raise AssertionError(
                "a promise broke after these steps (replay with --seed="
                f"{chaos.record.seed}):\n  {steps}\n" + "\n".join(str(v) for v in failed)
            )


def _run(chaos: ChaosRun, faults: list[Fault], examples: int, steps: int) -> None:
    machine = type("Machine", (FeedMachine,), {"chaos": chaos, "faults": faults, "log": []})
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,  # every step is real network I/O
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        chaos.record.figures["examples"] = len(machine.log)
        chaos.record.series["steps"] = [[n, len(s)] for n, s in enumerate(machine.log)]
        chaos.record.fault = {
            "kind": "schedule",
            "target": "hypothesis",
            "steps": machine.log[-1] if machine.log else [],
        }


@pytest.mark.read_path
@pytest.mark.write_path
def test_any_schedule_keeps_the_promises(chaos: ChaosRun) -> None:
    _run(chaos, FAULTS, examples=6, steps=15)


@pytest.mark.slow
@pytest.mark.read_path
@pytest.mark.write_path
def test_any_schedule_keeps_the_promises_long(chaos: ChaosRun) -> None:
    _run(chaos, FAULTS + SLOW_FAULTS, examples=25, steps=25)
