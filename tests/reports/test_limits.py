"""The in-memory sliding window and the keyed client hash."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.reports.limits import SlidingWindow, check_key, client_key, normalized_address

KEY = b"0123456789abcdef0123456789abcdef"

arrivals = st.lists(
    st.tuples(st.sampled_from("abc"), st.floats(min_value=0, max_value=50, allow_nan=False)),
    max_size=80,
)


@given(
    limit=st.integers(min_value=1, max_value=6),
    window=st.floats(min_value=0.5, max_value=20),
    arrivals=arrivals,
)
def test_never_more_than_limit_in_any_window_and_refuses_only_when_full(
    limit: int, window: float, arrivals: list[tuple[str, float]]
) -> None:
    limiter = SlidingWindow(limit, window)
    admitted: dict[str, list[float]] = {}
    for key, now in sorted(arrivals, key=lambda item: item[1]):
        mine = admitted.setdefault(key, [])
        recent = [t for t in mine if t + window > now]
        wait = limiter.admit(key, now)
        if wait is None:
            assert len(recent) < limit  # admitted: the window had room
            mine.append(now)
        else:
            assert len(recent) == limit  # refused only when the window is full
            assert 0 < wait <= window
            # Waiting that long frees a slot (the oldest ages out), and no shorter wait does.
            assert min(recent) + window == pytest.approx(now + wait)
    for times in admitted.values():
        for start in times:
            assert len([t for t in times if start <= t < start + window]) <= limit


@given(steps=st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), max_size=60))
def test_a_clock_stepping_back_never_admits_more(steps: list[float]) -> None:
    limiter = SlidingWindow(3, 10.0)
    now, admitted = 1000.0, 0
    for step in steps:
        now += step
        admitted += limiter.admit("k", now) is None
    span = max(0.0, sum(s for s in steps if s > 0))  # time can only move the window forward
    assert admitted <= 3 * (1 + int(span // 10.0) + 1)


def test_refusals_do_not_extend_the_wait() -> None:
    limiter = SlidingWindow(1, 10.0)
    assert limiter.admit("k", 0.0) is None
    assert limiter.admit("k", 4.0) == pytest.approx(6.0)
    assert limiter.admit("k", 9.0) == pytest.approx(1.0)
    assert limiter.admit("k", 10.0) is None


def test_memory_is_bounded_by_max_keys() -> None:
    limiter = SlidingWindow(1, 60.0, max_keys=100)
    for n in range(1000):
        assert limiter.admit(f"client-{n}", float(n)) is None
    assert len(limiter) == 100


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlidingWindow(0, 10.0)


def test_the_client_is_a_keyed_hash_never_the_address() -> None:
    digest = client_key("198.51.100.7", KEY)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert "198.51.100.7" not in digest
    assert digest == hmac.new(KEY, b"198.51.100.7", hashlib.sha256).hexdigest()
    assert digest != client_key("198.51.100.7", KEY[::-1])  # another key, another hash
    assert digest != hashlib.sha256(b"198.51.100.7").hexdigest()  # not guessable without the key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"),  # one /64 is one client
        ("::ffff:198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7", "198.51.100.7"),
    ],
)
def test_addresses_of_one_client_share_a_hash(first: str, second: str) -> None:
    assert client_key(first, KEY) == client_key(second, KEY)


def test_other_networks_are_other_clients() -> None:
    assert client_key("2001:db8:1:2::1", KEY) != client_key("2001:db8:1:3::1", KEY)
    assert normalized_address("not-an-ip") == "not-an-ip"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        check_key(b"short")
