"""Reads for the console's reports page: the user-reported alerts and the incidents they reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import alerts, incidents


@dataclass(frozen=True, slots=True)
class ReportAlert:
    """One episode of a component's user-reported alert and the incident it was in, if any."""

    component_id: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    incident_id: int | None
    opened_incident: bool  # the incident was opened by this alert, not joined

    def covers(self, at: datetime) -> bool:
        """Whether a report at ``at`` arrived while this alert fired."""
        return self.started_at <= at and (self.resolved_at is None or at <= self.resolved_at)


async def report_alerts(
    *, session: AsyncSession, source: str, since: datetime
) -> list[ReportAlert]:
    """Alerts of ``source`` firing now or resolved after ``since``, oldest first."""
    query = (
        select(
            alerts.c.component_id, alerts.c.status, alerts.c.started_at, alerts.c.resolved_at,
            alerts.c.incident_id, incidents.c.created_at.label("incident_created_at"),
        )
        .select_from(alerts.outerjoin(incidents, incidents.c.id == alerts.c.incident_id))
        .where(alerts.c.source == source)
        .where(or_(alerts.c.status == "firing", alerts.c.resolved_at > since))
        .order_by(alerts.c.started_at, alerts.c.id)
    )  # fmt: skip
    return [_alert(row) for row in await session.execute(query)]


def _alert(row: Any) -> ReportAlert:
    opened = row.incident_created_at is not None and row.incident_created_at == row.started_at
    return ReportAlert(
        row.component_id, row.status, row.started_at, row.resolved_at, row.incident_id, opened
    )
