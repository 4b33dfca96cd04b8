"""Recurring maintenance: a 5-field cron expression in a time zone, expanded into windows.

The cron is read as crontab(5) reads it: weekday 0 and 7 are Sunday (APScheduler 3 alone would
take 0 for Monday, so weekdays are handed to it by name). Restricting both the day of the month
and the day of the week is refused, because crontab would fire on either and APScheduler on both.

APScheduler's CronTrigger walks the wall clock of a UTC trigger (it skips a whole day after a
spring-forward when given a zone with daylight saving, agronholm/apscheduler#529 and #606); each
wall-clock time is then placed in the series' time zone here, so across clock changes:

- a wall-clock time that a fall-back repeats yields one window, at its first occurrence;
- a wall-clock time that a spring-forward skips starts when the clock has moved past it
  (02:30 on a day that jumps from 02:00 to 03:00 starts at 03:30);
- a window never runs into the next one: if a clock change brings the next start closer than
  the duration, the window ends where the next one starts.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import islice

from apscheduler.triggers.cron import CronTrigger

# Sunday first, as crontab(5) numbers them (0 and 7 are both Sunday).
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# APScheduler's order, Monday first, used to hand the days over by name.
_TRIGGER_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TICK = timedelta(microseconds=1)
_LOOK_BACK = timedelta(hours=3)  # more than any clock change moves the wall clock


class RecurrenceError(ValueError):
    """A series definition that cannot be used, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One window of a series, in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A validated cron expression, its time zone and each window's duration."""

    cron: str
    time_zone: str
    duration: timedelta
    zone: tzinfo
    wall_clock: CronTrigger  # the cron on a UTC clock: its times are wall-clock times

    def starts_after(self, after: datetime) -> Iterator[datetime]:
        """Yield the start of every window after ``after`` (UTC, strictly increasing)."""
        last = after
        # A wall time just before ``after``'s may land after it (a skipped time moves later).
        wall = after.astimezone(self.zone).replace(tzinfo=UTC) - _LOOK_BACK
        while True:
            fire: datetime | None = self.wall_clock.get_next_fire_time(None, wall + _TICK)
            if fire is None:
                return
            wall = fire
            # fold=0: a repeated wall time is its first pass, a skipped one lands past the gap.
            start = wall.replace(tzinfo=self.zone).astimezone(UTC)
            if start > last:
                yield start
                last = start

    def expand(self, *, after: datetime, until: datetime) -> list[Occurrence]:
        """Return the windows that start in ``(after, until]``, in order, never overlapping."""
        found: list[Occurrence] = []
        starts = self.starts_after(after)
        start = next(starts, None)
        while start is not None and start <= until:
            following = next(starts, None)
            end = start + self.duration
            if following is not None and following < end:
                end = following  # a clock change brought the next window closer
            found.append(Occurrence(start, end))
            start = following
        return found

    def count_within(self, *, after: datetime, span: timedelta, limit: int) -> int:
        """Count windows starting in ``(after, after + span]``, stopping early past ``limit``."""
        starts = _until(self.starts_after(after), after + span)
        return sum(1 for _ in islice(starts, limit + 1))


def parse_recurrence(cron: str, time_zone: str, duration_s: float, *, now: datetime) -> Recurrence:
    """Validate a new series definition (it must fire after ``now``); raise RecurrenceError."""
    recurrence = recurrence_of(cron, time_zone, duration_s)
    if next(recurrence.starts_after(now), None) is None:
        raise RecurrenceError("cron", f"{cron!r} never fires")
    return recurrence


def recurrence_of(cron: str, time_zone: str, duration_s: float) -> Recurrence:
    """Return the recurrence a series definition describes; raise RecurrenceError if none."""
    zone = parse_time_zone(time_zone)
    if not duration_s > 0:
        raise RecurrenceError("duration", "must be longer than zero")
    return Recurrence(
        cron=cron,
        time_zone=time_zone,
        duration=timedelta(seconds=duration_s),
        zone=zone,
        wall_clock=_wall_clock(cron),
    )


def parse_time_zone(name: str) -> tzinfo:
    """Return the IANA time zone called ``name``."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(
            "time_zone", f"{name!r} is not an IANA time zone (e.g. Asia/Tokyo)"
        ) from None


def _wall_clock(cron: str) -> CronTrigger:
    fields = cron.split()
    if len(fields) != 5:
        raise RecurrenceError(
            "cron", f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise RecurrenceError(
            "cron", "restrict the day of the month or the day of the week, not both"
        )
    expression = " ".join((minute, hour, day, month, _weekday_names(weekday)))
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as error:
        raise RecurrenceError("cron", f"{cron!r}: {error}") from None


def _weekday_names(field: str) -> str:
    """Translate a crontab weekday field (Sunday = 0 or 7) into names APScheduler reads."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        days |= _weekday_part(part)
    return ",".join(name for name in _TRIGGER_WEEKDAYS if _CRON_WEEKDAYS.index(name) in days)


def _weekday_part(part: str) -> set[int]:
    """Return the days (Sunday = 0) of one list item: ``*``, ``d``, ``a-b``, each with ``/step``."""
    body, slash, step_text = part.partition("/")
    step = _positive(step_text) if slash else 1
    if body == "*":
        low, high = 0, 6
    elif "-" in body:
        first, _, last = body.partition("-")
        low, high = _weekday_value(first), _weekday_value(last)
    else:
        low = _weekday_value(body)
        high = 6 if slash else low
    if low > high:
        raise RecurrenceError("cron", f"weekday range {part!r} runs backwards")
    return {day % 7 for day in range(low, high + 1, step)}


def _weekday_value(token: str) -> int:
    name = token.lower()
    if name in _CRON_WEEKDAYS:
        return _CRON_WEEKDAYS.index(name)
    if name.isdigit() and int(name) <= 7:
        return int(name)
    raise RecurrenceError("cron", f"weekday {token!r} is not 0-7 (0 and 7 are Sunday) or sun-sat")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise RecurrenceError("cron", f"step {text!r} is not a positive whole number")
    return int(text)


def _until(starts: Iterator[datetime], until: datetime) -> Iterator[datetime]:
    for start in starts:
        if start > until:
            return
        yield start
