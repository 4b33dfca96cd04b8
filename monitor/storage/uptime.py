"""Loads the facts behind the 90-day uptime bars: a few queries for every component at once.

One query per table, never one per component or day: the checks and the regions they reported
from, which (component, day) pairs have probe rollups (one index seek per check, region and
day on the rollups' primary key), raw results for the last two days (their minutes are not
rolled up yet), the status changes, and the incidents. See ``monitor.uptime`` for the rules.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Join,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from monitor.domain import ComponentStatus
from monitor.storage.tables import (
    checks,
    incident_components,
    incidents,
    probe_results,
    probe_rollups,
    timeline_events,
)
from monitor.storage.types import UTCDateTime
from monitor.uptime import (
    UPTIME_DAYS,
    ComponentFacts,
    IncidentSpan,
    LocalDay,
    StatusChange,
    history,
    local_days,
)
from monitor.views import ComponentView, IncidentRef, UptimeView

STATUS_CHANGED = "component_status_changed"
RAW_DAYS = 2
"""Days (today and yesterday) also looked up in raw results: rollups lag a minute behind."""


async def load_uptime(
    *,
    session: AsyncSession,
    components: Sequence[ComponentView],
    time_zone: str,
    now: datetime,
    days: int = UPTIME_DAYS,
) -> dict[str, UptimeView]:
    """Return each component's daily history for the ``days`` days up to today in ``time_zone``."""
    if not components:
        return {}
    calendar = local_days(now, time_zone, days)
    ids = [c.id for c in components]
    owners = await _checks(session, ids)
    data_days = defaultdict(set, await _rollup_days(session, owners, calendar))
    for component_id, found in (await _raw_days(session, owners, calendar[-RAW_DAYS:])).items():
        data_days[component_id] |= found
    changes = await _changes(session, ids, calendar[0].start, now)
    spans = await _incident_spans(session, ids, calendar[0].start, now)
    watched = set(owners.values())
    facts = {
        c.id: ComponentFacts(
            created_at=c.created_at,
            current=c.status,
            changes=changes.get(c.id, ()),
            data_days=frozenset(data_days.get(c.id, ())),
            watched_by_checks=c.id in watched,
            incidents=spans.get(c.id, ()),
        )
        for c in components
    }
    return {cid: history(known, calendar, now) for cid, known in facts.items()}


async def _checks(session: AsyncSession, component_ids: Collection[str]) -> dict[str, str]:
    """Return the component of every check (removed ones too: their history still counts)."""
    rows = await session.execute(
        select(checks.c.id, checks.c.component_id).where(checks.c.component_id.in_(component_ids))
    )
    return {check_id: component_id for check_id, component_id in rows}


async def _regions(session: AsyncSession, component_ids: Collection[str]) -> list[tuple[str, str]]:
    """Return every (check, region) with rollups of the components' checks: a loose index
    scan, one seek per pair."""
    first_region = probe_rollups.alias("first_region")
    start = select(
        checks.c.id.label("check_id"),
        select(func.min(first_region.c.region))
        .where(first_region.c.check_id == checks.c.id)
        .scalar_subquery()
        .label("region"),
    ).where(checks.c.component_id.in_(component_ids))
    pairs = start.cte("pairs", recursive=True)
    next_region = probe_rollups.alias("next_region")
    step = select(
        pairs.c.check_id,
        select(func.min(next_region.c.region))
        .where(next_region.c.check_id == pairs.c.check_id, next_region.c.region > pairs.c.region)
        .scalar_subquery(),
    ).where(pairs.c.region.is_not(None))
    pairs = pairs.union_all(step)
    rows = await session.execute(
        select(pairs.c.check_id, pairs.c.region).where(pairs.c.region.is_not(None))
    )
    return [(check_id, region) for check_id, region in rows]


async def _rollup_days(
    session: AsyncSession, owners: dict[str, str], calendar: Sequence[LocalDay]
) -> dict[str, set[date]]:
    """Return, per component, the days one of its checks has a rollup in (any region)."""
    pairs = await _regions(session, set(owners.values())) if owners else []
    rows = [(owners[check_id], check_id, region) for check_id, region in pairs]
    return await _seen_days(session, ROLLUPS, rows, calendar)


async def _raw_days(
    session: AsyncSession, owners: dict[str, str], calendar: Sequence[LocalDay]
) -> dict[str, set[date]]:
    """Return, per component, the recent days one of its checks has a raw result in."""
    rows = [(owner, check_id) for check_id, owner in owners.items()]
    return await _seen_days(session, RESULTS, rows, calendar)


ROLLUPS, RESULTS = "rollups", "results"
_SOURCE_COLUMNS = {
    ROLLUPS: ("component_id", "check_id", "region"),
    RESULTS: ("component_id", "check_id"),
}


async def _seen_days(
    session: AsyncSession,
    kind: str,
    sources: Sequence[tuple[str, ...]],
    calendar: Sequence[LocalDay],
) -> dict[str, set[date]]:
    """Return the days each component in ``sources`` has a row of ``kind`` in.

    One query per ``SOURCES_PER_QUERY`` sources (a component's sources all in the same one),
    so no query passes the databases' limit on bound parameters (32,766 on SQLite).
    """
    if not sources or not calendar:
        return {}
    days = _params("days", _DAY_COLUMNS, [(i, d.start, d.end) for i, d in enumerate(calendar)])
    every_day = {day.day for day in calendar}
    found = {source[0]: set(every_day) for source in sources}
    for batch in _batches(sources):
        params = days | _params("sources", _SOURCE_COLUMNS[kind], batch)
        rows = await session.execute(_gaps_query(kind, len(batch), len(calendar)), params)
        for component_id, day_index in rows:
            found[component_id].discard(calendar[day_index].day)
    return found


# SQLite allows at most 500 terms in one compound SELECT (SQLITE_MAX_COMPOUND_SELECT); the
# sources table is a UNION ALL of one-row SELECTs, so a batch stays well under that.
SOURCES_PER_QUERY = 400


def _batches(sources: Sequence[tuple[str, ...]]) -> list[list[tuple[str, ...]]]:
    """Split ``sources`` into batches of about ``SOURCES_PER_QUERY``, never splitting one
    component's sources (a day is a gap only if none of them has a row)."""
    by_component: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for source in sources:
        by_component[source[0]].append(source)
    batches: list[list[tuple[str, ...]]] = [[]]
    for own in by_component.values():
        if batches[-1] and len(batches[-1]) + len(own) > SOURCES_PER_QUERY:
            batches.append([])
        batches[-1].extend(own)
    return batches


_DAY_COLUMNS = ("day_index", "day_start", "day_end")
_TYPES: dict[str, TypeEngine[Any]] = {
    "component_id": String(),
    "check_id": String(),
    "region": String(),
    "day_index": Integer(),
    "day_start": UTCDateTime(),
    "day_end": UTCDateTime(),
}


@functools.lru_cache(maxsize=32)
def _gaps_query(kind: str, sources: int, days: int) -> Select[str, int]:
    """Return the query for the (component, day) pairs without a row of ``kind`` that day.

    For each pair, one index seek per source of the component until one has a row. It asks
    for the days *without* a row (a handful) rather than those with one (thousands of rows
    to convert). Built once per shape: the statement and its cache key cost milliseconds.
    """
    source = _table("sources", _SOURCE_COLUMNS[kind], sources)
    day = _table("days", _DAY_COLUMNS, days)
    owners = select(source.c.component_id).distinct().cte("owners")
    joined, moment = _rows_of(kind, source)
    # A scalar subquery with LIMIT 1, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an
    # anti-join over the whole rollups table (6 s on 12.7 million rows) instead of seeking.
    first_row = (
        select(literal(1))
        .select_from(joined)
        .where(
            source.c.component_id == owners.c.component_id,
            moment >= day.c.day_start,
            moment < day.c.day_end,
        )
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(owners.c.component_id, day.c.day_index)
        .select_from(owners.join(day, true()))
        .where(first_row.is_(None))
    )


def _rows_of(kind: str, source: CTE) -> tuple[Join, ColumnElement[datetime]]:
    """Return ``source`` joined to its rows of ``kind`` (on the primary key's leading columns),
    and the rows' timestamp."""
    if kind == ROLLUPS:
        on = and_(
            probe_rollups.c.check_id == source.c.check_id,
            probe_rollups.c.region == source.c.region,
        )
        return source.join(probe_rollups, on), probe_rollups.c.minute
    on = probe_results.c.check_id == source.c.check_id
    return source.join(probe_results, on), probe_results.c.observed_at


def _table(name: str, columns: Sequence[str], count: int) -> CTE:
    """Return a table of ``count`` rows of bound parameters named ``{name}_{row}_{column}``: a
    UNION ALL of one-row SELECTs (SQLAlchemy never caches a multi-row VALUES)."""
    selects = [
        select(*(bindparam(f"{name}_{r}_{c}", type_=_TYPES[c]).label(c) for c in columns))
        for r in range(count)
    ]
    return union_all(*selects).cte(name)


def _params(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Return the values of ``_table(name, columns, len(rows))``'s parameters."""
    return {
        f"{name}_{r}_{c}": value
        for r, row in enumerate(rows)
        for c, value in zip(columns, row, strict=True)
    }


async def _changes(
    session: AsyncSession, component_ids: Collection[str], since: datetime, now: datetime
) -> dict[str, list[StatusChange]]:
    """Return each component's public status changes from ``since`` to ``now``, oldest first.

    ``data`` is ``{"from", "to"}``; the database extracts both (no JSON parsing here), and an
    event not in that shape is left out rather than failing the page.
    """
    rows = await session.execute(
        select(
            timeline_events.c.component_id,
            timeline_events.c.at,
            timeline_events.c.data["from"].as_string(),
            timeline_events.c.data["to"].as_string(),
        )
        .where(
            timeline_events.c.at >= since,
            timeline_events.c.at <= now,
            timeline_events.c.kind == STATUS_CHANGED,
            timeline_events.c.component_id.in_(component_ids),
        )
        .order_by(timeline_events.c.at, timeline_events.c.id)
    )
    found: dict[str, list[StatusChange]] = defaultdict(list)
    for component_id, at, old, new in rows:
        if old in _STATUSES and new in _STATUSES:
            found[component_id].append(StatusChange(at, _STATUSES[old], _STATUSES[new]))
    return found


_STATUSES = {status.value: status for status in ComponentStatus}


async def _incident_spans(
    session: AsyncSession, component_ids: Collection[str], since: datetime, now: datetime
) -> dict[str, list[IncidentSpan]]:
    """Return the incidents open at some moment from ``since`` to ``now``, per component."""
    rows = await session.execute(
        select(
            incident_components.c.component_id,
            incidents.c.id,
            incidents.c.name_ja,
            incidents.c.name_en,
            incidents.c.started_at,
            incidents.c.resolved_at,
        )
        .join(incidents, incidents.c.id == incident_components.c.incident_id)
        .where(
            incident_components.c.component_id.in_(component_ids),
            incidents.c.started_at <= now,
            or_(incidents.c.resolved_at.is_(None), incidents.c.resolved_at >= since),
        )
    )
    found: dict[str, list[IncidentSpan]] = defaultdict(list)
    for component_id, incident_id, name_ja, name_en, started_at, resolved_at in rows:
        ref = IncidentRef(incident_id, {"ja": name_ja, "en": name_en})
        found[component_id].append(IncidentSpan(ref, started_at, resolved_at))
    return found
