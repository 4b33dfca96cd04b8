"""The per-address window over stored request times, and the in-memory per-client gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor.subscriptions.limits import ClientGate, SubscriptionLimits, address_window

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
LIMITS = SubscriptionLimits(per_address=3, per_address_window=3600, per_client=2,
                            per_client_window=60, flood=3, flood_window=60)  # fmt: skip


def test_the_fourth_request_within_the_hour_waits_for_the_first_to_age_out() -> None:
    start = NOW.timestamp()
    times = [start - 3000, start - 100, start - 10]
    recent, refused = address_window(times, NOW, LIMITS)
    assert recent == times
    assert refused is not None and refused.scope == "address"
    assert refused.retry_after == 600


def test_old_requests_drop_out_of_the_window() -> None:
    start = NOW.timestamp()
    recent, refused = address_window([start - 7200, start - 3600, start - 5], NOW, LIMITS)
    assert (recent, refused) == ([start - 5], None)


@given(times=st.lists(st.floats(min_value=-8000, max_value=100, allow_nan=False), max_size=10))
def test_the_window_keeps_only_what_counts_and_waits_at_most_a_window(times: list[float]) -> None:
    start = NOW.timestamp()
    recent, refused = address_window([start + t for t in times], NOW, LIMITS)
    assert all(t + 3600 > start for t in recent)
    assert (refused is not None) == (len(recent) >= 3)
    if refused is not None:
        assert 0 < refused.retry_after <= 3600


def test_the_gate_limits_each_client_and_everyone() -> None:
    gate = ClientGate(LIMITS, b"k" * 32)
    assert gate.admit("192.0.2.1", NOW) is None
    assert gate.admit("192.0.2.1", NOW) is None
    refused = gate.admit("192.0.2.1", NOW)
    assert refused is not None and refused.scope == "client"
    assert gate.admit("192.0.2.2", NOW) is None  # the third admitted request overall
    refused = gate.admit("192.0.2.3", NOW)
    assert refused is not None and refused.scope == "everyone"
    assert gate.admit("192.0.2.3", NOW + timedelta(seconds=61)) is None
