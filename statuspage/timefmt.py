"""Times as the page shows them: ISO 8601 with the page's offset, and local wall-clock text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def iso(moment: datetime | None, time_zone: str) -> str | None:
    """Return ``moment`` as ISO 8601 in ``time_zone`` with milliseconds, as Statuspage does."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(time_zone)).isoformat(timespec="milliseconds")


def local_text(moment: datetime, time_zone: str) -> str:
    """Return ``2026-11-21 19:03 JST`` for people."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or time_zone)


def minutes_between(start: datetime, end: datetime) -> int:
    """Return the whole minutes from ``start`` to ``end`` (at least 0)."""
    return max(0, int((end - start).total_seconds() // 60))
