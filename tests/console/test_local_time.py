"""The console's datetime-local fields: read in the site's zone, written back the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.console.local_time import LocalTimeError, local_input, parse_local

TOKYO, NEW_YORK = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
ZONES = st.sampled_from([TOKYO, NEW_YORK, ZoneInfo("Europe/London"), ZoneInfo("UTC")])
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def test_a_wall_clock_time_is_read_in_the_zone_given() -> None:
    assert parse_local("2026-11-22T02:00", TOKYO) == datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    assert parse_local("2026-11-22 02:00:30", TOKYO) == datetime(
        2026, 11, 21, 17, 0, 30, tzinfo=UTC
    )
    assert parse_local("2026-07-01T12:00", NEW_YORK) == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-02-30T10:00", "not a date and time of the calendar"),
        ("2026-11-22T24:00", "not a date and time of the calendar"),
        ("2026-11-22", "is not a date and time (YYYY-MM-DDTHH:MM)"),
        ("2026-11-22T10:00Z", "is not a date and time (YYYY-MM-DDTHH:MM)"),
        ("２０２６-11-22T10:00", "is not a date and time (YYYY-MM-DDTHH:MM)"),
        ("0001-01-01T00:00", "not a date and time of the calendar"),  # before year 1 in UTC
    ],
)
def test_what_is_not_a_wall_clock_time_is_refused(text: str, why: str) -> None:
    with pytest.raises(LocalTimeError, match=why.replace("(", r"\(").replace(")", r"\)")):
        parse_local(text, TOKYO)


def test_a_time_the_clocks_skip_is_refused_and_a_doubled_one_is_the_first() -> None:
    with pytest.raises(LocalTimeError, match="does not exist in America/New_York"):
        parse_local("2026-03-08T02:30", NEW_YORK)
    first = parse_local("2026-11-01T01:30", NEW_YORK)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # still daylight time (UTC-4)


@settings(max_examples=300, deadline=None)
@given(at=INSTANTS, zone=ZONES)
def test_writing_then_reading_gives_the_same_instant_to_the_second(
    at: datetime, zone: ZoneInfo
) -> None:
    at = at.replace(microsecond=0)
    wall = at.astimezone(zone)
    doubled = wall.replace(fold=1).utcoffset() != wall.replace(fold=0).utcoffset()
    back = parse_local(local_input(at, zone), zone)
    if doubled:  # the second pass of a repeated hour reads as the first one, an hour earlier
        assert back in (at, at - timedelta(hours=1))
    else:
        assert back == at


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40), zone=ZONES)
def test_any_text_is_an_instant_or_a_local_time_error(text: str, zone: ZoneInfo) -> None:
    try:
        at = parse_local(text, zone)
    except LocalTimeError as error:
        assert repr(text) in str(error)
    else:
        assert at.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(
    parts=st.tuples(
        st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
        st.integers(0, 99), st.integers(0, 99),
    ),
    zone=ZONES,
)  # fmt: skip
def test_well_shaped_numbers_never_escape_as_another_error(
    parts: tuple[int, ...], zone: ZoneInfo
) -> None:
    text = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*parts)
    try:
        at = parse_local(text, zone)
    except LocalTimeError:
        return
    assert local_input(at, zone) == (text if parts[5] else text[:16])  # the same wall time
