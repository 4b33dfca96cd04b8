"""The quorum rule, table-driven and as a property: fire, recover, and never recover by silence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting import CheckState, Transition
from monitor.domain import AlertState
from monitor.quorum import quorum_transition

BAD, GOOD = CheckState(AlertState.FIRING, 2, 0), CheckState()


@pytest.mark.parametrize(
    ("states", "counting", "required", "alerting", "expected"),
    [
        ({"a": BAD, "b": GOOD, "c": GOOD}, {"a", "b", "c"}, 2, False, None),
        ({"a": BAD, "b": BAD, "c": GOOD}, {"a", "b", "c"}, 2, False, Transition.FIRED),
        ({"a": BAD, "b": GOOD, "c": GOOD}, {"a", "b", "c"}, 2, True, Transition.RECOVERED),
        (
            {"a": BAD, "b": GOOD, "c": GOOD},
            {"a"},
            2,
            False,
            Transition.FIRED,
        ),  # b, c silent: capped
        ({"a": BAD, "b": BAD}, {"b"}, 2, True, None),  # a held back while failing: no recovery
        ({"a": GOOD, "b": BAD}, {"a"}, 1, True, None),  # silence cannot resolve
        ({"a": BAD}, set(), 1, False, None),  # nobody counts: no change
    ],
)
def test_quorum(
    states: dict[str, CheckState],
    counting: set[str],
    required: int,
    alerting: bool,
    expected: Transition | None,
) -> None:
    assert quorum_transition(states, counting, required, alerting) is expected


@given(
    st.dictionaries(st.sampled_from("abcde"), st.booleans(), min_size=1),
    st.sets(st.sampled_from("abcde")),
    st.integers(1, 5),
)
def test_never_recovers_while_an_uncounted_region_fails(
    failing: dict[str, bool], counting: set[str], required: int
) -> None:
    states = {region: BAD if bad else GOOD for region, bad in failing.items()}
    result = quorum_transition(states, counting, required, alerting=True)
    if any(bad and region not in counting for region, bad in failing.items()):
        assert result is not Transition.RECOVERED
    assert quorum_transition(states, counting, required, alerting=False) is not Transition.RECOVERED
