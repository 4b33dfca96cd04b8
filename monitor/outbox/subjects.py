"""What a timeline event is about, as notifications see it: kind, severity, components, thread.

The planner (at commit) and the notice reader (at send time) both start here, so they agree on
which events notify and as what. An incident's announcement and resolution are told by its
public updates (the first one, and the one saying resolved), not by the bare lifecycle events,
so subscribers get one message per public update.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.notices import Kind
from monitor.storage.incidents import get_incident, incident_component_ids
from monitor.storage.maintenance import get_maintenance
from monitor.storage.notice_reads import UpdateText, update_text
from monitor.storage.timeline_reads import EventRow

CONFIRMATION_EVENT = "subscription_confirmation_requested"
_SAME_NAME: frozenset[str] = frozenset(
    {
        "severity_changed",
        "acknowledged",
        "maintenance_announced",
        "maintenance_started",
        "maintenance_completed",
        "page",
        "reminder",
    }
)


@dataclass(frozen=True, slots=True)
class Subject:
    """A notifying event's kind and what it is about."""

    kind: Kind
    severity: str | None = None
    component_ids: tuple[str, ...] = ()
    thread_key: str | None = None
    update: UpdateText | None = None


def update_kind(update: UpdateText) -> Kind:
    """The notice a public update gives: the incident's announcement, an update, or its end."""
    if update.first:
        return "incident_opened"
    return "incident_resolved" if update.status == "resolved" else "update_posted"


async def subject_of(session: AsyncSession, event: EventRow) -> Subject | None:
    """Return what ``event`` notifies about, or None if it notifies nobody."""
    if event.kind == CONFIRMATION_EVENT:
        return Subject("subscription_confirmation")
    if event.incident_id is not None and event.kind in (*_SAME_NAME, "update_posted"):
        return await _incident_subject(session, event, event.incident_id)
    if event.maintenance_id is not None and event.kind in _SAME_NAME:
        window = await get_maintenance(session=session, maintenance_id=event.maintenance_id)
        if window is None:
            return None
        kind: Kind = event.kind  # type: ignore[assignment]  # checked against _SAME_NAME
        return Subject(kind, None, window.components, f"maintenance:{window.id}")
    return None


async def _incident_subject(
    session: AsyncSession, event: EventRow, incident_id: int
) -> Subject | None:
    incident = await get_incident(session=session, incident_id=incident_id)
    if incident is None:
        return None
    update = None
    if event.kind == "update_posted":
        update_id = (event.data or {}).get("update_id")
        if not isinstance(update_id, int):
            return None
        update = await update_text(session=session, update_id=update_id)
        if update is None:
            return None
    kind: Kind = update_kind(update) if update else event.kind  # type: ignore[assignment]
    components = await incident_component_ids(session=session, incident_id=incident_id)
    return Subject(
        kind, str(incident.severity), tuple(components), f"incident:{incident_id}", update
    )
