"""Cron expansion: crontab's weekdays, validation, and windows across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.maintenance.recurrence import Recurrence, RecurrenceError, parse_recurrence

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Europe/London", "Australia/Lord_Howe")
# How far a clock change moves the wall clock in ZONES (Lord Howe moves 30 minutes).
LARGEST_SHIFT = HOUR


def starts(cron: str, zone: str, after: datetime, days: int) -> list[datetime]:
    rule = parse_recurrence(cron, zone, 60, now=NOW)
    found = rule.expand(after=after, until=after + timedelta(days=days))
    return [o.start.astimezone(ZoneInfo(zone)) for o in found]


@pytest.mark.parametrize(
    ("weekday", "days"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("5-7", ["Sun", "Fri", "Sat"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("sat,sun", ["Sun", "Sat"]),
        ("MON-FRI/2", ["Mon", "Wed", "Fri"]),
    ],
)
def test_weekdays_are_read_as_crontab_reads_them(weekday: str, days: list[str]) -> None:
    after = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)  # Sunday 02:00 in Tokyo
    found = starts(f"0 3 * * {weekday}", "Asia/Tokyo", after, 7)
    assert [s.strftime("%a") for s in found] == days
    assert {s.strftime("%H:%M") for s in found} == {"03:00"}


@pytest.mark.parametrize(
    ("cron", "zone", "field", "message"),
    [
        ("0 3 * *", "UTC", "cron", "expected 5 fields"),
        ("61 3 * * *", "UTC", "cron", "higher than the maximum value"),
        ("0 3 1 * 1", "UTC", "cron", "not both"),
        ("0 3 * * 6-1", "UTC", "cron", "runs backwards"),
        ("0 3 * * 8", "UTC", "cron", "is not 0-7"),
        ("0 3 * * */0", "UTC", "cron", "not a positive whole number"),
        ("0 0 30 2 *", "UTC", "cron", "never fires"),
        ("0 3 * * *", "Mars/Olympus", "time_zone", "not an IANA time zone"),
    ],
)
def test_unusable_series_name_the_field(cron: str, zone: str, field: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message) as caught:
        parse_recurrence(cron, zone, 3600, now=NOW)
    assert caught.value.field == field


def test_a_duration_must_be_positive() -> None:
    with pytest.raises(RecurrenceError) as caught:
        parse_recurrence("0 3 * * *", "UTC", 0, now=NOW)
    assert caught.value.field == "duration"


def test_new_york_daily_windows_keep_their_wall_clock_through_both_changes() -> None:
    rule = parse_recurrence("30 1 * * *", "America/New_York", 2 * 3600, now=NOW)
    autumn = rule.expand(
        after=datetime(2026, 10, 31, tzinfo=UTC), until=datetime(2026, 11, 3, tzinfo=UTC)
    )
    # 1:30 happens twice on 1 November (EDT, then EST): one window, at the first.
    assert [o.start for o in autumn] == [
        datetime(2026, 10, 31, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
    ]
    assert {o.end - o.start for o in autumn} == {2 * HOUR}
    spring = parse_recurrence("30 2 * * *", "America/New_York", 3600, now=NOW)
    found = spring.expand(
        after=datetime(2026, 3, 7, tzinfo=UTC), until=datetime(2026, 3, 10, tzinfo=UTC)
    )
    # 2:30 does not exist on 8 March: that window starts once the clock has jumped (3:30 EDT).
    assert [o.start for o in found] == [
        datetime(2026, 3, 7, 7, 30, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC),
    ]


def test_a_window_longer_than_a_shortened_day_ends_where_the_next_begins() -> None:
    rule = parse_recurrence("0 0 * * *", "America/New_York", 23.5 * 3600, now=NOW)
    found = rule.expand(
        after=datetime(2026, 3, 7, tzinfo=UTC), until=datetime(2026, 3, 11, tzinfo=UTC)
    )
    # 8 March in New York lasts 23 hours: that window is cut short instead of overlapping.
    assert [o.end - o.start for o in found[:-1]] == [23.5 * HOUR, 23 * HOUR, 23.5 * HOUR]


def test_counting_stops_at_the_limit() -> None:
    rule = parse_recurrence("* * * * *", "UTC", 30, now=NOW)
    assert rule.count_within(after=NOW, span=timedelta(days=14), limit=1000) == 1001
    assert rule.count_within(after=NOW, span=timedelta(minutes=10), limit=1000) == 10


@st.composite
def series(draw: st.DrawFn) -> tuple[str, str, timedelta]:
    """A cron with a known period (hourly steps dividing a day, daily, weekly), and its zone."""
    minute = draw(st.integers(0, 59))
    zone = draw(st.sampled_from(ZONES))
    kind = draw(st.sampled_from(["hours", "daily", "weekly"]))
    if kind == "hours":
        step = draw(st.sampled_from([1, 2, 3, 4, 6, 8, 12]))
        return f"{minute} */{step} * * *", zone, step * HOUR
    hour = draw(st.integers(0, 23))
    if kind == "daily":
        return f"{minute} {hour} * * *", zone, 24 * HOUR
    return f"{minute} {hour} * * {draw(st.integers(0, 7))}", zone, 7 * 24 * HOUR


# Often in the months of the clock changes (New York, London and Lord Howe change in these).
moments = st.one_of(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),
    st.builds(
        datetime,
        year=st.integers(2020, 2035),
        month=st.sampled_from([3, 4, 9, 10, 11]),
        day=st.integers(1, 28),
        hour=st.integers(0, 23),
        minute=st.integers(0, 59),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    definition=series(),
    after=moments,
    span_days=st.integers(8, 40),
    fraction=st.floats(0.01, 0.999),
)
@example(  # APScheduler 3 alone skips 9 March here (a day after the spring-forward)
    definition=("0 0 * * *", "America/New_York", 24 * HOUR),
    after=datetime(2026, 3, 7),
    span_days=8,
    fraction=0.5,
)
@example(
    definition=("0 0 * * 0", "Australia/Lord_Howe", 7 * 24 * HOUR),
    after=datetime(2026, 9, 20),
    span_days=30,
    fraction=0.99,
)
def test_expansion_is_ordered_exact_and_never_overlaps(
    definition: tuple[str, str, timedelta], after: datetime, span_days: int, fraction: float
) -> None:
    cron, zone, period = definition
    duration = period * fraction  # always shorter than the period
    rule = parse_recurrence(cron, zone, duration.total_seconds(), now=NOW)
    start = after.replace(tzinfo=UTC)
    found = rule.expand(after=start, until=start + timedelta(days=span_days))
    assert found, "every one of these crons fires within a day (a week for weekly ones)"
    starts = [o.start for o in found]
    assert all(a < b for a, b in pairwise(starts))  # strictly increasing
    # None missing: no gap longer than the period plus a clock change (APScheduler 3 on its own
    # skips a day after a spring-forward).
    assert starts[0] - start <= period + LARGEST_SHIFT
    assert all(b - a <= period + LARGEST_SHIFT for a, b in pairwise(starts))
    assert all(start < s <= start + timedelta(days=span_days) for s in starts)
    for window, following in pairwise(found):
        assert window.end <= following.start  # never overlapping
        # Each lasts the duration, unless a clock change brought the next start closer.
        assert window.end - window.start == min(duration, following.start - window.start)
        if duration <= period - LARGEST_SHIFT:
            assert window.end - window.start == duration
    _assert_wall_clock(rule, found[0].start, starts)


def _assert_wall_clock(rule: Recurrence, first: datetime, starts: list[datetime]) -> None:
    """Each start is at the cron's minute of local time (or just after a skipped wall time)."""
    zone = ZoneInfo(rule.time_zone)
    minute = int(rule.cron.split()[0])
    walls = [s.astimezone(zone).replace(tzinfo=None) for s in starts]
    assert len(set(walls)) == len(walls)  # a repeated wall time yields one window
    for wall in walls:
        assert wall.minute == minute or _just_after_a_gap(wall, zone)
    assert first == starts[0]


def _just_after_a_gap(wall: datetime, zone: ZoneInfo) -> bool:
    """True when the wall time 30 or 60 minutes earlier does not exist (a spring-forward)."""
    for shift in (timedelta(minutes=30), HOUR):
        earlier = wall - shift
        back = earlier.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) != earlier:
            return True
    return False


@settings(max_examples=100, deadline=None)
@given(after=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)))
def test_tokyo_has_no_clock_changes(after: datetime) -> None:
    rule = parse_recurrence("0 3 * * *", "Asia/Tokyo", 7200, now=NOW)
    start = after.replace(tzinfo=UTC)
    found = rule.expand(after=start, until=start + timedelta(days=60))
    assert {(o.start.hour, o.start.minute) for o in found} == {(18, 0)}  # 03:00 JST = 18:00 UTC
    assert {o.end - o.start for o in found} == {2 * HOUR}
