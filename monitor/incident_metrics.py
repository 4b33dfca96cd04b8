"""Incident counters and MTTA/MTTR/first-update histograms, observed from committed timeline events.

Every incident change appends a timeline event in the transaction that makes it, so the
database's event planner sees each one exactly once; the series move only once that
transaction commits (a rolled-back acknowledgement was never one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import incident_updates, incidents, timeline_events

# Detection to acknowledgement or resolution: from half a minute to a day.
INCIDENT_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
OPENED = ("incident_opened", "incident_reopened")
KINDS = (*OPENED, "incident_resolved", "acknowledged", "update_posted")


@dataclass(frozen=True, slots=True)
class _Seen:
    """One incident event with what the series need of its incident."""

    kind: str
    severity: str
    seconds: float  # detection (the incident's start) to the event
    first: bool  # the incident's first acknowledgement / first public update


class IncidentMetrics:
    """The incident series; ``plan`` is an event planner (see ``Database.plan_events_with``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("severity",)
        self.opened = Counter(
            "exwatch_incidents_opened", "Incidents opened or reopened", labels, registry=registry
        )
        self.resolved = Counter(
            "exwatch_incidents_resolved", "Incidents resolved", labels, registry=registry
        )
        self.acknowledge_seconds = _histogram(
            registry, "exwatch_incident_acknowledge_seconds", "Detection to first acknowledgement"
        )
        self.resolve_seconds = _histogram(
            registry, "exwatch_incident_resolve_seconds", "Detection to resolution"
        )
        self.first_update_seconds = _histogram(
            registry, "exwatch_incident_first_update_seconds", "Detection to first public update"
        )

    async def plan(self, session: AsyncSession, event_ids: Sequence[int]) -> None:
        """Read this transaction's incident events; count them once it commits."""
        seen = await _load(session, event_ids)
        if seen:
            _after_commit(session, lambda: self.record(seen))

    def record(self, seen: Sequence[_Seen]) -> None:
        """Move the series for committed events."""
        for item in seen:
            if item.kind in OPENED:
                self.opened.labels(item.severity).inc()
            elif item.kind == "incident_resolved":
                self.resolved.labels(item.severity).inc()
                self.resolve_seconds.labels(item.severity).observe(item.seconds)
            elif item.kind == "acknowledged" and item.first:
                self.acknowledge_seconds.labels(item.severity).observe(item.seconds)
            elif item.kind == "update_posted" and item.first:
                self.first_update_seconds.labels(item.severity).observe(item.seconds)


def _histogram(registry: CollectorRegistry, name: str, help_text: str) -> Histogram:
    return Histogram(name, help_text, ("severity",), buckets=INCIDENT_BUCKETS, registry=registry)


def _after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    def run(_session: Any) -> None:
        action()

    event.listen(session.sync_session, "after_commit", run, once=True)


async def _load(session: AsyncSession, event_ids: Sequence[int]) -> list[_Seen]:
    """The incident events among ``event_ids``, oldest first, with their incident's facts."""
    rows = await session.execute(
        select(
            timeline_events.c.kind,
            timeline_events.c.at,
            timeline_events.c.data,
            incidents.c.id,
            incidents.c.severity,
            incidents.c.started_at,
        )
        .join(incidents, incidents.c.id == timeline_events.c.incident_id)
        .where(timeline_events.c.id.in_(event_ids), timeline_events.c.kind.in_(KINDS))
        .order_by(timeline_events.c.id)
    )
    seen: list[_Seen] = []
    for row in rows:
        first = await _is_first(session, row)
        seconds = max(0.0, (row.at - row.started_at).total_seconds())
        seen.append(_Seen(row.kind, row.severity, seconds, first))
    return seen


async def _is_first(session: AsyncSession, row: Any) -> bool:
    """Whether the event is the incident's first acknowledgement or first public update."""
    data = row.data if isinstance(row.data, dict) else {}
    if row.kind == "acknowledged":
        return data.get("first") is True  # the responder marks the first acknowledgement
    if row.kind != "update_posted":
        return False
    first_id = await session.scalar(
        select(func.min(incident_updates.c.id)).where(incident_updates.c.incident_id == row.id)
    )
    return bool(data.get("update_id") == first_id)
