"""Daily uptime from status changes: table-driven cases and hypothesis properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain import ComponentStatus
from monitor.uptime import (
    ComponentFacts,
    IncidentSpan,
    StatusChange,
    history,
    local_days,
    status_spans,
)
from monitor.views import DayView, IncidentRef, UptimeView, combined_uptime

OP, DEGRADED = ComponentStatus.OPERATIONAL, ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL, MAJOR = ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.MAJOR_OUTAGE
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo
DAY1, DAY2, DAY3 = date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)
LONG_AGO = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)  # 1 November, midnight in Tokyo


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    """Return 2026-11-``day`` ``hour``:``minute`` in Tokyo."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


def change(at: datetime, old: ComponentStatus, new: ComponentStatus) -> StatusChange:
    return StatusChange(at.astimezone(UTC), old, new)


@dataclass(frozen=True)
class Expected:
    """What one day must show: worst status (None: no data) and minutes of each kind."""

    worst: ComponentStatus | None
    observed: int = 0
    outage: int = 0
    degraded: int = 0
    maintenance: int = 0
    incidents: tuple[int, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    expected: dict[date, Expected]
    changes: tuple[StatusChange, ...] = ()
    current: ComponentStatus = OP
    created_at: datetime = LONG_AGO
    data_days: frozenset[date] = frozenset({DAY1, DAY2, DAY3})
    watched_by_checks: bool = True
    incidents: tuple[IncidentSpan, ...] = field(default=())


FULL, TODAY = 24 * 60, 18 * 60
CASES = [
    Case(
        "a major outage across midnight in Tokyo counts on both days",
        changes=(change(jst(19, 23, 30), OP, MAJOR), change(jst(20, 0, 45), MAJOR, OP)),
        expected={
            DAY1: Expected(MAJOR, FULL, outage=30),
            DAY2: Expected(MAJOR, FULL, outage=45),
            DAY3: Expected(OP, TODAY),
        },
    ),
    Case(
        "maintenance is not downtime",
        changes=(change(jst(20, 1), OP, MAINTENANCE), change(jst(20, 3), MAINTENANCE, OP)),
        expected={
            DAY1: Expected(OP, FULL),
            DAY2: Expected(MAINTENANCE, FULL, maintenance=120),
            DAY3: Expected(OP, TODAY),
        },
    ),
    Case(
        "degraded is counted apart, partial is outage, the worst is partial",
        changes=(
            change(jst(21, 9), OP, DEGRADED),
            change(jst(21, 9, 10), DEGRADED, PARTIAL),
            change(jst(21, 9, 15), PARTIAL, OP),
        ),
        expected={
            DAY1: Expected(OP, FULL),
            DAY2: Expected(OP, FULL),
            DAY3: Expected(PARTIAL, TODAY, outage=5, degraded=10),
        },
    ),
    Case(
        "days before the component existed have no data; its first day counts from creation",
        created_at=jst(20, 12),
        expected={DAY1: Expected(None), DAY2: Expected(OP, 12 * 60), DAY3: Expected(OP, TODAY)},
    ),
    Case(
        "a day without probe data and without a change has no data",
        data_days=frozenset({DAY3}),
        changes=(change(jst(20, 5), OP, DEGRADED), change(jst(20, 6), DEGRADED, OP)),
        expected={
            DAY1: Expected(None),
            DAY2: Expected(DEGRADED, FULL, degraded=60),
            DAY3: Expected(OP, TODAY),
        },
    ),
    Case(
        "a component without checks (alerts and people only) counts every day it existed",
        data_days=frozenset(),
        watched_by_checks=False,
        expected={DAY1: Expected(OP, FULL), DAY2: Expected(OP, FULL), DAY3: Expected(OP, TODAY)},
    ),
    Case(
        "before the first change the status was that change's old one",
        changes=(change(jst(20, 10), PARTIAL, OP),),
        expected={
            DAY1: Expected(PARTIAL, FULL, outage=FULL),
            DAY2: Expected(PARTIAL, FULL, outage=600),
            DAY3: Expected(OP, TODAY),
        },
    ),
    Case(
        "with no change at all, the current status held throughout",
        current=MAJOR,
        expected={
            DAY1: Expected(MAJOR, FULL, outage=FULL),
            DAY2: Expected(MAJOR, FULL, outage=FULL),
            DAY3: Expected(MAJOR, TODAY, outage=TODAY),
        },
    ),
    Case(
        "incidents are listed on every day they were open, even a day without data",
        data_days=frozenset({DAY2, DAY3}),
        incidents=(
            IncidentSpan(IncidentRef(7, {"ja": "夜", "en": "Night"}), jst(19, 23), jst(20, 1)),
            IncidentSpan(IncidentRef(9, {"ja": "今", "en": "Now"}), jst(21, 17), None),
            IncidentSpan(IncidentRef(3, {"ja": "昔", "en": "Old"}), jst(1, 0), jst(2, 0)),
        ),
        expected={
            DAY1: Expected(None, incidents=(7,)),
            DAY2: Expected(OP, FULL, incidents=(7,)),
            DAY3: Expected(OP, TODAY, incidents=(9,)),
        },
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_days(case: Case) -> None:
    facts = ComponentFacts(
        created_at=case.created_at.astimezone(UTC),
        current=case.current,
        changes=case.changes,
        data_days=case.data_days,
        watched_by_checks=case.watched_by_checks,
        incidents=case.incidents,
    )
    days = history(facts, local_days(NOW, "Asia/Tokyo", 3), NOW).days
    assert {d.day: _seen(d) for d in days} == case.expected


def _seen(day: DayView) -> Expected:
    def minutes(span: timedelta) -> int:
        return int(span / timedelta(minutes=1))

    return Expected(
        day.worst_status,
        minutes(day.observed),
        minutes(day.outage),
        minutes(day.degraded),
        minutes(day.maintenance),
        tuple(ref.id for ref in day.incidents),
    )


def test_days_follow_the_zone_including_a_23_hour_day() -> None:
    now = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # New York moved its clocks on 8 March
    days = local_days(now, "America/New_York", 3)
    assert [d.day for d in days] == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert [d.end - d.start for d in days[:2]] == [timedelta(hours=24), timedelta(hours=23)]
    facts = ComponentFacts(created_at=now - timedelta(days=30), current=OP, watched_by_checks=False)
    [_, short, _] = history(facts, days, now).days
    assert short.observed == timedelta(hours=23) and short.uptime_percent == 100.0


def test_uptime_percent_and_outage_minutes() -> None:
    day = DayView(
        day=DAY1, worst_status=MAJOR, observed=timedelta(hours=24), outage=timedelta(seconds=10)
    )
    assert day.outage_minutes == 1  # rounded up: ten seconds of outage is not "0 min"
    assert day.uptime_percent is not None and 99.98 < day.uptime_percent < 100.0
    empty = DayView(day=DAY1, worst_status=None)
    assert empty.uptime_percent is None and not empty.has_data
    together = combined_uptime(
        [UptimeView((day,)), UptimeView((empty,)), UptimeView((day._replace(outage=timedelta()),))]
    )
    assert together is not None and together == pytest.approx(100 - 10 / (2 * 864))


def test_no_days_and_changes_outside_the_window() -> None:
    facts = ComponentFacts(created_at=jst(1, 0), current=OP)
    assert history(facts, (), NOW).days == ()
    spans = status_spans(
        [change(jst(18, 0), MAJOR, OP), change(jst(22, 0), OP, MAJOR)],
        start=jst(19, 0),
        end=NOW,
        current=OP,
    )
    assert [(s.start, s.end, s.status) for s in spans] == [(jst(19, 0), NOW, OP)]


STATUSES = list(ComponentStatus)
DAYS = 4


@st.composite
def component_facts(draw: st.DrawFn) -> tuple[ComponentFacts, datetime]:
    """Return random facts over the last ``DAYS`` days, changes at distinct seconds."""
    now = NOW + timedelta(seconds=draw(st.integers(0, 86_399)))
    window = DAYS * 86_400
    offsets = sorted(draw(st.sets(st.integers(0, window - 1), max_size=25)))
    statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=len(offsets) + 1))
    first = local_days(now, "Asia/Tokyo", DAYS)[0].start
    changes = tuple(
        StatusChange(first + timedelta(seconds=o), statuses[i], statuses[i + 1])
        for i, o in enumerate(offsets)
        if first + timedelta(seconds=o) <= now
    )
    facts = ComponentFacts(
        created_at=first + timedelta(seconds=draw(st.integers(-86_400, window))),
        current=changes[-1].new if changes else statuses[0],
        changes=changes,
        data_days=frozenset(
            draw(st.sets(st.sampled_from([d.day for d in local_days(now, "Asia/Tokyo", DAYS)])))
        ),
        watched_by_checks=draw(st.booleans()),
    )
    return facts, now


@settings(max_examples=200, deadline=None)
@given(drawn=component_facts())
def test_days_keep_their_invariants(drawn: tuple[ComponentFacts, datetime]) -> None:
    facts, now = drawn
    calendar = local_days(now, "Asia/Tokyo", DAYS)
    result = history(facts, calendar, now)
    assert len(result.days) == DAYS
    for local, day in zip(calendar, result.days, strict=True):
        length = local.end - local.start
        assert timedelta(0) <= day.outage <= day.observed <= length
        assert day.outage_minutes <= length / timedelta(minutes=1)
        assert day.outage + day.degraded + day.maintenance <= day.observed
        if day.has_data:
            percent = day.uptime_percent
            assert percent is not None and 0.0 <= percent <= 100.0
            assert day.worst_status == _worst_seen(facts, local.start, local.end, now)
        else:
            assert day.observed == timedelta(0) and day.uptime_percent is None
    overall = result.uptime_percent
    assert overall is None or 0.0 <= overall <= 100.0


def _worst_seen(
    facts: ComponentFacts, start: datetime, end: datetime, now: datetime
) -> ComponentStatus:
    """The worst status held at any moment of the observed part of a day, found directly."""
    low, high = max(start, facts.created_at), min(end, now)
    before = [c.new for c in facts.changes if c.at <= low]
    first = facts.changes[0].old if facts.changes else facts.current
    seen = [before[-1] if before else first] + [c.new for c in facts.changes if low < c.at < high]
    return max(seen, key=lambda status: status.rank)
