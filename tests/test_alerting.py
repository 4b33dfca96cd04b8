"""The alert state machine: table-driven cases and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting import CheckState, Transition, advance
from monitor.domain import AlertState


def run(
    results: str, failures_to_alert: int = 2, successes_to_recover: int = 2
) -> tuple[CheckState, list[str]]:
    """Feed ``results`` ("F" fail, "." ok) and return the final state and the transitions."""
    state, seen = CheckState(), []
    for mark in results:
        state, transition = advance(state, mark == ".", failures_to_alert, successes_to_recover)
        if transition is not None:
            seen.append(str(transition))
    return state, seen


@pytest.mark.parametrize(
    ("results", "state", "transitions"),
    [
        ("", AlertState.OK, []),
        ("F", AlertState.PENDING, []),
        ("F.", AlertState.OK, []),
        ("FF", AlertState.FIRING, ["fired"]),
        ("FFF", AlertState.FIRING, ["fired"]),
        ("FF.", AlertState.RECOVERING, ["fired"]),
        ("FF.F", AlertState.FIRING, ["fired"]),
        ("FF..", AlertState.OK, ["fired", "recovered"]),
        ("FF..FF", AlertState.FIRING, ["fired", "recovered", "fired"]),
        ("F.F.F.", AlertState.OK, []),
    ],
)
def test_transitions(results: str, state: AlertState, transitions: list[str]) -> None:
    final, seen = run(results)
    assert final.state == state
    assert seen == transitions


def test_thresholds_of_one_fire_and_recover_at_once() -> None:
    assert run("F", 1, 1) == (CheckState(AlertState.FIRING, 1, 0), ["fired"])
    assert run("F.", 1, 1)[1] == ["fired", "recovered"]


@given(
    results=st.lists(st.booleans(), max_size=60),
    failures_to_alert=st.integers(1, 5),
    successes_to_recover=st.integers(1, 5),
)
def test_fired_and_recovered_alternate_and_need_their_streaks(
    results: list[bool], failures_to_alert: int, successes_to_recover: int
) -> None:
    state, previous, streak_fail, streak_ok = CheckState(), Transition.RECOVERED, 0, 0
    for ok in results:
        streak_fail, streak_ok = (0, streak_ok + 1) if ok else (streak_fail + 1, 0)
        state, transition = advance(state, ok, failures_to_alert, successes_to_recover)
        if transition is Transition.FIRED:
            assert previous is Transition.RECOVERED
            assert streak_fail >= failures_to_alert
        if transition is Transition.RECOVERED:
            assert previous is Transition.FIRED
            assert streak_ok >= successes_to_recover
        if transition is not None:
            previous = transition
        assert state.state.is_open == (previous is Transition.FIRED)
