"""The timeline writer: the one function that appends TimelineEvents (the outage timeline)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opentelemetry import trace
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.database import EVENTS_KEY
from monitor.storage.tables import timeline_events

_tracer = trace.get_tracer(__name__)


async def append_event(
    *,
    session: AsyncSession,
    at: datetime,
    kind: str,
    incident_id: int | None = None,
    component_id: str | None = None,
    check_id: str | None = None,
    alert_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    actor: str = "engine",
    maintenance_id: int | None = None,
) -> int:
    """Append one event inside the caller's transaction and return its id.

    ``actor`` is who caused it: "engine" for monitoring, or the responder / input that did.

    The event's id is noted on the session, so the deliveries it causes are planned in this
    same transaction before it commits (the outbox, see ``Database.plan_events_with``).
    """
    noted = {"exwatch.incident": incident_id, "exwatch.check": check_id,
             "exwatch.component": component_id, "exwatch.actor": actor}  # fmt: skip
    # One span per event: incident transitions (opened, acknowledged, update, resolved) and the rest.
    with _tracer.start_as_current_span(f"exwatch.timeline.{kind}") as span:
        span.set_attributes({key: value for key, value in noted.items() if value is not None})
        result = await session.execute(
            insert(timeline_events)
            .values(
                at=at,
                kind=kind,
                incident_id=incident_id,
                component_id=component_id,
                check_id=check_id,
                alert_id=alert_id,
                reason=reason,
                data=data,
                actor=actor,
                maintenance_id=maintenance_id,
            )
            .returning(timeline_events.c.id)
        )
        event_id = int(result.scalar_one())
        span.set_attribute("exwatch.event", event_id)
    session.info.setdefault(EVENTS_KEY, []).append(event_id)
    return event_id
