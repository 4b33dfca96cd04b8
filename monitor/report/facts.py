"""The facts of one incident report, gathered from the database and derived from the timeline.

Every export format (json, csv, md) renders the same ``IncidentReport``; nothing here formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.postmortems.kinds import SAVED as POSTMORTEM_SAVED
from monitor.storage.deliveries import EventDeliveries, incident_deliveries
from monitor.storage.postmortems import PostmortemRow, get_postmortem
from monitor.storage.timeline_reads import (
    AffectedComponent,
    AlertEntry,
    EventRow,
    IncidentRecord,
    UpdateRow,
    affected_components,
    incident_alerts,
    incident_events,
    incident_record,
    public_updates,
)

RECOVERED_STATUSES = frozenset({"operational"})


@dataclass(frozen=True, slots=True)
class SeverityStep:
    """One classification of the incident: the opening one or a later change, with its reason."""

    at: datetime
    severity: str
    previous: str | None  # None for the opening classification
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class ComponentImpact:
    """How long one component was affected: from joining the incident until it recovered."""

    component: AffectedComponent
    affected_from: datetime
    recovered_at: datetime | None  # None while it is still affected

    @property
    def duration(self) -> timedelta | None:
        """Return how long the component was affected, or None while it still is."""
        return None if self.recovered_at is None else self.recovered_at - self.affected_from


@dataclass(frozen=True, slots=True)
class Milestones:
    """When the incident was detected, first told, acknowledged, recovered and resolved."""

    detected_at: datetime
    first_public_post_at: datetime | None
    first_acknowledged_at: datetime | None
    first_acknowledged_by: str | None
    recovered_at: datetime | None
    resolved_at: datetime | None

    @property
    def mtta(self) -> timedelta | None:
        """Time to acknowledge: from detection to the first acknowledgement."""
        return _between(self.detected_at, self.first_acknowledged_at)

    @property
    def mttr(self) -> timedelta | None:
        """Time to resolve: from detection to the resolution."""
        return _between(self.detected_at, self.resolved_at)


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """Everything an export of one incident shows."""

    incident: IncidentRecord
    components: tuple[ComponentImpact, ...]
    alerts: tuple[AlertEntry, ...]
    updates: tuple[UpdateRow, ...]
    severity_history: tuple[SeverityStep, ...]
    timeline: tuple[EventRow, ...]
    milestones: Milestones
    generated_at: datetime
    notifications: tuple[EventDeliveries, ...] = ()  # what the outbox sent, per event and channel
    postmortem: PostmortemRow | None = None  # the text as last saved, draft or published

    def update_of(self, event: EventRow) -> UpdateRow | None:
        """Return the public update an ``update_posted`` event tells of, if it is known."""
        wanted = (event.data or {}).get("update_id")
        return next((u for u in self.updates if u.id == wanted), None)

    def postmortem_of(self, event: EventRow) -> PostmortemRow | None:
        """Return the postmortem if ``event`` is the save that wrote its current text.

        Only the text as last saved is kept, so earlier saves point at nothing.
        """
        saves = [e for e in self.timeline if e.kind == POSTMORTEM_SAVED]
        if self.postmortem is None or not saves or saves[-1].id != event.id:
            return None
        return self.postmortem


async def gather_report(
    *, session: AsyncSession, incident_id: int, now: datetime
) -> IncidentReport | None:
    """Read one incident's report from the database, or None when there is no such incident."""
    incident = await incident_record(session=session, incident_id=incident_id)
    if incident is None:
        return None
    return build_report(
        incident=incident,
        components=await affected_components(session=session, incident_id=incident_id),
        alerts=await incident_alerts(session=session, incident_id=incident_id),
        updates=await public_updates(session=session, incident_id=incident_id),
        events=await incident_events(session=session, incident_id=incident_id),
        now=now,
        notifications=await incident_deliveries(session=session, incident_id=incident_id),
        postmortem=await get_postmortem(session=session, incident_id=incident_id),
    )


def build_report(
    *,
    incident: IncidentRecord,
    components: Sequence[AffectedComponent],
    alerts: Sequence[AlertEntry],
    updates: Sequence[UpdateRow],
    events: Sequence[EventRow],
    now: datetime,
    notifications: Sequence[EventDeliveries] = (),
    postmortem: PostmortemRow | None = None,
) -> IncidentReport:
    """Derive the report's facts from the rows read for one incident."""
    timeline = tuple(sorted(events, key=lambda e: (e.at, e.id)))
    updates = tuple(sorted(updates, key=lambda u: (u.created_at, u.id)))
    return IncidentReport(
        incident=incident,
        components=tuple(component_impact(c, timeline, incident.resolved_at) for c in components),
        alerts=tuple(alerts),
        updates=updates,
        severity_history=severity_history(incident, timeline),
        timeline=timeline,
        milestones=milestones(incident, alerts, updates, timeline),
        generated_at=now,
        notifications=tuple(notifications),
        postmortem=postmortem,
    )


def severity_history(
    incident: IncidentRecord, timeline: Sequence[EventRow]
) -> tuple[SeverityStep, ...]:
    """Return the opening classification and every severity change, oldest first."""
    opening = next((e for e in timeline if e.kind == "incident_opened"), None)
    changes = [_change(e) for e in timeline if e.kind == "severity_changed"]
    if opening is not None:
        severity = str((opening.data or {}).get("severity") or _first_severity(incident, changes))
        first = SeverityStep(
            opening.at, severity, None, opening.reason or incident.severity_reason, opening.actor
        )
    else:  # opened before the timeline recorded it, or by a writer that did not
        reason = incident.severity_reason if not changes else "(not recorded)"
        first = SeverityStep(
            incident.created_at, _first_severity(incident, changes), None, reason, "engine"
        )
    return (first, *changes)


def _change(event: EventRow) -> SeverityStep:
    data = event.data or {}
    previous = data.get("from")
    return SeverityStep(
        event.at,
        str(data.get("to", "?")),
        None if previous is None else str(previous),
        event.reason or "(no reason recorded)",
        event.actor,
    )


def _first_severity(incident: IncidentRecord, changes: Sequence[SeverityStep]) -> str:
    if not changes:
        return incident.severity
    return changes[0].previous or incident.severity


def component_impact(
    component: AffectedComponent, timeline: Sequence[EventRow], resolved_at: datetime | None
) -> ComponentImpact:
    """Return when ``component`` was affected and when it last recovered (or the resolve)."""
    recovered: datetime | None = None
    for event in timeline:
        if (
            event.kind != "component_status_changed"
            or event.component_id != component.component_id
            or event.at < component.added_at
        ):
            continue
        back = str((event.data or {}).get("to")) in RECOVERED_STATUSES
        recovered = (recovered or event.at) if back else None
    if recovered is None:
        recovered = resolved_at
    return ComponentImpact(component, component.added_at, recovered)


def milestones(
    incident: IncidentRecord,
    alerts: Sequence[AlertEntry],
    updates: Sequence[UpdateRow],
    timeline: Sequence[EventRow],
) -> Milestones:
    """Return detection (the first alert, else when exwatch learnt of it), first post, first ack
    and the ends. Detection is what MTTA counts from, as in the admin API."""
    detected = min((a.started_at for a in alerts), default=incident.created_at)
    ack = next((e for e in timeline if e.kind == "acknowledged"), None)
    acked_at, acked_by = (ack.at, ack.actor) if ack else _ack_from_columns(incident)
    recovered = incident.recovered_at or next(
        (e.at for e in reversed(timeline) if e.kind == "incident_recovered"), None
    )
    return Milestones(
        detected_at=detected,
        first_public_post_at=min((u.created_at for u in updates), default=None),
        first_acknowledged_at=acked_at,
        first_acknowledged_by=acked_by,
        recovered_at=recovered,
        resolved_at=incident.resolved_at,
    )


def _ack_from_columns(incident: IncidentRecord) -> tuple[datetime | None, str | None]:
    first = incident.first_acknowledged_at
    # The current acknowledger is the first one only when this is still the first ack.
    by = incident.acknowledged_by if first and incident.acknowledged_at == first else None
    return first, by


def _between(start: datetime, end: datetime | None) -> timedelta | None:
    return None if end is None else max(end - start, timedelta(0))
