"""The console's ``datetime-local`` fields: wall-clock times in the site's time zone, both ways.

A browser sends ``2026-11-21T10:00`` (seconds only when the field shows them) with no zone:
the console reads it in the site's zone, never the browser's, and says so next to the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_LOCAL = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")


class LocalTimeError(ValueError):
    """A field that is not a wall-clock time of the site's zone; the message says why."""


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """``YYYY-MM-DDTHH:MM[:SS]`` read in ``zone``, as an aware UTC datetime.

    A time the clocks skip (a DST gap) is refused; a time they pass twice is the first one.
    """
    found = _LOCAL.fullmatch(text.strip())
    if found is None:
        raise LocalTimeError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM)")
    year, month, day, hour, minute, second = (int(part or 0) for part in found.groups())
    try:
        wall = datetime(year, month, day, hour, minute, second, tzinfo=zone)
        at = wall.astimezone(UTC)
        back = at.astimezone(zone)
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, or past year 9999 in UTC
        raise LocalTimeError(f"{text!r} is not a date and time of the calendar") from None
    if back.replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise LocalTimeError(f"{text!r} does not exist in {zone.key}: the clocks skip it")
    return at


def local_input(at: datetime, zone: ZoneInfo) -> str:
    """``at`` as a ``datetime-local`` value in ``zone`` (seconds only when it has them)."""
    wall = at.astimezone(zone).replace(tzinfo=None)  # isoformat: strftime drops year 1's zeros
    return wall.isoformat(timespec="seconds" if wall.second or wall.microsecond else "minutes")
