"""Daily uptime from the timeline: each component's public status, day by day, in the page's zone.

The timeline's ``component_status_changed`` events give the exact public status at every
moment; probe rollups only tell which days monitoring saw the component at all. This module is
pure: storage gathers the facts (``ComponentFacts``), ``history`` turns them into ``DayView``s.

Definitions (also shown on the page and in ``/api/v2/exwatch/uptime.json``):
- a day runs from midnight to midnight in the site's time zone (23 or 25 hours on DST days);
- observed time is the part of the day after the component was created and before now, on a
  day with data: probe data for one of its checks, or a status change (a component with no
  checks is watched by alerts and people only, so every day it existed counts);
- outage is the time in ``partial_outage`` or ``major_outage``; ``degraded_performance`` and
  ``under_maintenance`` are counted apart and are not downtime;
- uptime = (observed − outage) ÷ observed; the worst status is the worst held for any time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.domain import ComponentStatus
from monitor.views import DayView, IncidentRef, UptimeView

UPTIME_DAYS = 90
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class LocalDay:
    """One calendar day in the site's time zone, with its bounds in UTC."""

    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One ``component_status_changed`` event."""

    at: datetime
    old: ComponentStatus
    new: ComponentStatus


@dataclass(frozen=True, slots=True)
class Span:
    """A status held from ``start`` to ``end``."""

    start: datetime
    end: datetime
    status: ComponentStatus


@dataclass(frozen=True, slots=True)
class IncidentSpan:
    """An incident on a component, from its start to its resolution (None while open)."""

    ref: IncidentRef
    started_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentFacts:
    """What storage knows about one component over the days shown."""

    created_at: datetime
    current: ComponentStatus
    changes: Sequence[StatusChange] = ()
    """Status changes from the first day's start on, oldest first."""
    data_days: frozenset[date] = frozenset()
    """Days with probe data for one of the component's checks."""
    watched_by_checks: bool = True
    incidents: Sequence[IncidentSpan] = ()


def local_days(now: datetime, time_zone: str, count: int = UPTIME_DAYS) -> tuple[LocalDay, ...]:
    """Return the ``count`` days up to and including today in ``time_zone``, oldest first."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    return tuple(
        _local_day(today - timedelta(days=back), zone) for back in range(count - 1, -1, -1)
    )


def _local_day(day: date, zone: ZoneInfo) -> LocalDay:
    """Return ``day`` with its midnight-to-midnight bounds in ``zone``, in UTC."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return LocalDay(day, start, end)


def status_spans(
    changes: Sequence[StatusChange], *, start: datetime, end: datetime, current: ComponentStatus
) -> list[Span]:
    """Return the statuses held over [start, end): before the first change its ``old``
    status, after each change its ``new`` one; with no change, ``current`` throughout."""
    status = changes[0].old if changes else current
    spans: list[Span] = []
    since = start
    for change in changes:
        at = min(max(change.at, start), end)
        if at > since:
            spans.append(Span(since, at, status))
        since, status = max(since, at), change.new
    if end > since:
        spans.append(Span(since, end, status))
    return spans


def history(facts: ComponentFacts, days: Sequence[LocalDay], now: datetime) -> UptimeView:
    """Return the component's ``DayView`` for each of ``days``."""
    if not days:
        return UptimeView(())
    spans = _Spans(status_spans(facts.changes, start=days[0].start, end=now, current=facts.current))
    starts = [d.start for d in days]
    changed = {_day_index(starts, days, change.at) for change in facts.changes}
    incidents = _incidents_by_day(facts.incidents, starts, days)
    return UptimeView(
        tuple(
            _day(
                facts,
                day,
                spans,
                seen=index in changed,
                incidents=incidents.get(index, ()),
                now=now,
            )
            for index, day in enumerate(days)
        )
    )


def _day_index(starts: Sequence[datetime], days: Sequence[LocalDay], at: datetime) -> int | None:
    """Return the index of the day ``at`` falls on, None outside every day."""
    index = bisect_right(starts, at) - 1
    return index if index >= 0 and at < days[index].end else None


def _incidents_by_day(
    spans: Sequence[IncidentSpan], starts: Sequence[datetime], days: Sequence[LocalDay]
) -> dict[int, tuple[IncidentRef, ...]]:
    """Return the incidents open at some moment of each day (by day index), by start."""
    found: dict[int, list[IncidentRef]] = {}
    for span in sorted(spans, key=lambda s: (s.started_at, s.ref.id)):
        first = max(0, bisect_right(starts, span.started_at) - 1)
        last = len(days) if span.resolved_at is None else bisect_right(starts, span.resolved_at)
        for index in range(first, last):
            if span.started_at < days[index].end:
                found.setdefault(index, []).append(span.ref)
    return {index: tuple(refs) for index, refs in found.items()}


class _Spans:
    """Status spans in time order, with a quick way to the ones overlapping an interval.

    Time is summed per status rank in a list: hashing a StrEnum is a Python call, and this
    runs for every component and day of every snapshot.
    """

    def __init__(self, spans: list[Span]) -> None:
        self._spans = [(span.start, span.end, span.status.rank) for span in spans]
        self._ends = [span.end for span in spans]

    def time_per_rank(self, low: datetime, high: datetime) -> list[timedelta]:
        """Return how long each status (by rank) was held within [low, high)."""
        held = [_ZERO] * len(_BY_RANK)
        for index in range(bisect_right(self._ends, low), len(self._spans)):
            start, end, rank = self._spans[index]
            if start >= high:
                break
            held[rank] += min(end, high) - max(start, low)
        return held


_BY_RANK = sorted(ComponentStatus, key=lambda status: status.rank)
_MAINTENANCE, _DEGRADED, _PARTIAL, _MAJOR = (
    status.rank
    for status in (
        ComponentStatus.UNDER_MAINTENANCE,
        ComponentStatus.DEGRADED_PERFORMANCE,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.MAJOR_OUTAGE,
    )
)


def _day(
    facts: ComponentFacts,
    day: LocalDay,
    spans: _Spans,
    *,
    seen: bool,
    incidents: tuple[IncidentRef, ...],
    now: datetime,
) -> DayView:
    """Return one day: no data, or the time the component held each status that day."""
    low, high = max(day.start, facts.created_at), min(day.end, now)
    seen = seen or not facts.watched_by_checks or day.day in facts.data_days
    if high <= low or not seen:
        return DayView(day=day.day, worst_status=None, incidents=incidents)
    held = spans.time_per_rank(low, high)
    worst = max((rank for rank, spent in enumerate(held) if spent > _ZERO), default=None)
    return DayView(
        day=day.day,
        worst_status=facts.current if worst is None else _BY_RANK[worst],
        observed=high - low,
        outage=held[_PARTIAL] + held[_MAJOR],
        degraded=held[_DEGRADED],
        maintenance=held[_MAINTENANCE],
        incidents=incidents,
    )
