"""Escalation: page the levels of a severity's policy until someone acknowledges.

Level 1 is paged when an incident opens (or rises in class, or is unacknowledged); each level
waits its ``wait`` for an ack, then the next level is paged; the last level repeats. A page is a
timeline event (kind ``page``) that the notifiers deliver (#6).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config.policies import Escalation, EscalationLevel
from monitor.domain import Severity
from monitor.storage.incidents import IncidentRow, update_incident
from monitor.storage.timeline import append_event


class Escalator:
    """Pages an incident's escalation levels in turn; ack stops it."""

    def __init__(self, policy: Escalation) -> None:
        self._policy = policy

    def levels(self, severity: Severity) -> tuple[EscalationLevel, ...]:
        """Return the escalation levels for ``severity`` (empty: nobody is paged)."""
        return self._policy.levels.get(severity, ())

    async def restart(
        self, session: AsyncSession, incident_id: int, severity: Severity, at: datetime
    ) -> None:
        """Page the first level of ``severity`` now and schedule the next."""
        if not self.levels(severity):
            await update_incident(
                session=session, incident_id=incident_id, escalation_level=0, next_page_at=None
            )
            return
        await self._page(session, incident_id, severity, level=0, at=at)

    async def page_due(self, session: AsyncSession, incident: IncidentRow, at: datetime) -> bool:
        """Page the next level if the incident waited past its level's ack window; True if paged."""
        due = incident.next_page_at
        if due is None or due > at or incident.acknowledged_at is not None:
            return False
        levels = self.levels(incident.severity)
        if not levels:
            return False
        level = min(incident.escalation_level + 1, len(levels) - 1)
        await self._page(session, incident.id, incident.severity, level=level, at=at)
        return True

    async def _page(
        self,
        session: AsyncSession,
        incident_id: int,
        severity: Severity,
        *,
        level: int,
        at: datetime,
    ) -> None:
        step = self.levels(severity)[level]
        await append_event(
            session=session, at=at, kind="page", incident_id=incident_id,
            reason=f"{severity} incident not acknowledged: paging level {level + 1}",
            data={"level": level + 1, "targets": list(step.targets), "severity": str(severity)},
        )  # fmt: skip
        await update_incident(
            session=session,
            incident_id=incident_id,
            escalation_level=level,
            next_page_at=at + timedelta(seconds=step.wait),
        )
