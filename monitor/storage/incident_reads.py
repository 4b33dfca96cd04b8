"""Read queries for the admin API: incidents as lists and in detail (components, updates, alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import IncidentStatus
from monitor.storage.tables import alerts, incident_components, incident_updates, incidents

_OPEN = [s.value for s in IncidentStatus if s != IncidentStatus.RESOLVED]
_FIELDS = (
    "id", "name_ja", "name_en", "status", "severity", "severity_reason", "cause", "origin",
    "started_at", "created_at", "updated_at", "monitoring_at", "recovered_at", "resolved_at",
    "acknowledged_at", "acknowledged_by", "first_acknowledged_at", "escalation_level",
    "next_page_at", "description", "impact_scope", "reproduction", "reporter", "contact",
)  # fmt: skip


def _with_detection() -> Any:
    """Select incidents with ``detected_at``: their first alert's start, else when opened."""
    first_alert = (
        select(func.min(alerts.c.started_at))
        .where(alerts.c.incident_id == incidents.c.id)
        .scalar_subquery()
    )
    detected = func.coalesce(first_alert, incidents.c.created_at).label("detected_at")
    return select(incidents, detected)


async def list_incidents(*, session: AsyncSession, state: str, limit: int) -> list[dict[str, Any]]:
    """Return incidents newest first: ``state`` is open, resolved or all."""
    query = _with_detection().order_by(incidents.c.id.desc()).limit(limit)
    if state == "open":
        query = query.where(incidents.c.status.in_(_OPEN))
    elif state == "resolved":
        query = query.where(incidents.c.status == str(IncidentStatus.RESOLVED))
    return [_summary(row) for row in await session.execute(query)]


async def incident_detail(*, session: AsyncSession, incident_id: int) -> dict[str, Any] | None:
    """Return one incident with its components, public updates and alerts; None if unknown."""
    row = (
        await session.execute(_with_detection().where(incidents.c.id == incident_id))
    ).one_or_none()
    if row is None:
        return None
    detail = _summary(row)
    detail["components"] = await _components(session, incident_id)
    detail["updates"] = await _updates(session, incident_id)
    detail["alerts"] = await _alerts(session, incident_id)
    return detail


def _summary(row: Any) -> dict[str, Any]:
    summary = {name: getattr(row, name) for name in _FIELDS}
    summary["detected_at"] = row.detected_at
    # Both count from detection, as the exported report does: the first alert of the incident,
    # or for one opened by hand, when it was opened (a reported start may be much earlier).
    summary["mtta_seconds"] = _seconds(row.detected_at, row.first_acknowledged_at)
    summary["mttr_seconds"] = _seconds(row.detected_at, row.resolved_at)
    return summary


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


async def _components(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(incident_components)
        .where(incident_components.c.incident_id == incident_id)
        .order_by(incident_components.c.added_at, incident_components.c.component_id)
    )
    return [
        {"id": r.component_id, "worst_status": r.worst_status, "added_at": r.added_at} for r in rows
    ]


async def _updates(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(incident_updates)
        .where(incident_updates.c.incident_id == incident_id)
        .order_by(incident_updates.c.created_at.desc(), incident_updates.c.id.desc())
    )
    return [
        {
            "id": r.id, "status": r.status, "body_ja": r.body_ja, "body_en": r.body_en,
            "affected_components": r.affected_components, "created_at": r.created_at,
        }
        for r in rows
    ]  # fmt: skip


async def _alerts(session: AsyncSession, incident_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(alerts).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
    )
    return [
        {
            "id": r.id, "fingerprint": r.fingerprint, "source": r.source, "check_id": r.check_id,
            "component": r.component_id, "status": r.status, "summary": r.summary,
            "started_at": r.started_at, "resolved_at": r.resolved_at, "flapping": r.flapping,
        }
        for r in rows
    ]  # fmt: skip
