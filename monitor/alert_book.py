"""Opening and closing alerts from any source, and what that does to components and incidents.

Checks (through the engine), Alertmanager and user reports all come through here, so an alert
is an alert wherever it came from: it moves its component's status, and the component's status
opens, joins or recovers incidents. Every call runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alert_input import NewAlert
from monitor.domain import ComponentStatus, worst_status
from monitor.incidents import IncidentManager
from monitor.mutes import Mutes
from monitor.storage.alerts import (
    AlertRow,
    firing_alert,
    firing_statuses,
    link_alert_to_incident,
    link_unlinked_alerts,
    open_alert,
    resolve_alert,
)
from monitor.storage.components import component_row, set_alert_status, set_component_status
from monitor.storage.incidents import open_incident_for
from monitor.storage.timeline import append_event

__all__ = ["AlertBook", "NewAlert"]


class AlertBook:
    """Raises and clears alerts and keeps component status and incidents in step with them."""

    def __init__(self, incidents: IncidentManager, mutes: Mutes) -> None:
        self.incidents = incidents
        self._mutes = mutes

    async def fire(self, session: AsyncSession, alert: NewAlert, at: datetime) -> AlertRow:
        """Open ``alert`` (or return the one already firing with its fingerprint)."""
        existing = await firing_alert(session=session, fingerprint=alert.fingerprint)
        if existing is not None:
            return existing
        muted = await self._mutes.muted(session=session, component_id=alert.component_id, at=at)
        row = await open_alert(
            session=session,
            fingerprint=alert.fingerprint,
            check_id=alert.check_id,
            component_id=alert.component_id,
            failure_status=alert.failure_status,
            summary=alert.summary,
            at=at,
            source=alert.source,
            labels=alert.labels,
            episode=alert.episode,
            muted_reason=muted,
        )
        data = {"failure_status": str(alert.failure_status), "source": alert.source, **alert.data}
        if muted is not None:
            data["muted"] = muted
        await append_event(
            session=session, at=at, kind="alert_fired", alert_id=row.id, check_id=alert.check_id,
            component_id=alert.component_id, reason=alert.summary, data=data,
        )  # fmt: skip
        if alert.moves_status:
            await self.refresh_component(session, alert.component_id, at, trigger=alert)
        else:
            await self.incidents.reported(session, alert, at, muted=muted is not None)
        await self._link(session, row)
        return row

    async def clear(
        self, session: AsyncSession, alert: AlertRow, at: datetime, reason: str
    ) -> None:
        """Resolve a firing alert; its component and incident follow."""
        await resolve_alert(session=session, alert_id=alert.id, at=at)
        await append_event(
            session=session, at=at, kind="alert_recovered", alert_id=alert.id,
            check_id=alert.check_id, component_id=alert.component_id, reason=reason,
            incident_id=alert.incident_id,
        )  # fmt: skip
        # An alert that never moved the status still held its incident open: look again.
        await self.refresh_component(
            session, alert.component_id, at, force=alert.source == "user_reports"
        )

    async def refresh_component(
        self,
        session: AsyncSession,
        component_id: str,
        at: datetime,
        *,
        trigger: NewAlert | None = None,
        force: bool = False,
    ) -> bool:
        """Recompute a component's statuses from its alerts, override and maintenance.

        Returns True if the public status changed. ``force`` re-runs the incident rules even
        when monitoring's view did not change (a maintenance window just ended).
        """
        row = await component_row(session=session, component_id=component_id)
        seen = worst_status(await firing_statuses(session=session, component_id=component_id))
        muted = await self._mutes.muted(session=session, component_id=component_id, at=at)
        public = row.override_status or (ComponentStatus.UNDER_MAINTENANCE if muted else seen)
        changed = public != row.status
        if changed:
            await set_component_status(
                session=session, component_id=component_id, status=public, at=at
            )
            await append_event(
                session=session, at=at, kind="component_status_changed",
                component_id=component_id, data={"from": str(row.status), "to": str(public)},
            )  # fmt: skip
        if seen != row.alert_status or force:
            await set_alert_status(session=session, component_id=component_id, status=seen)
            incident_id = await self.incidents.component_changed(
                session, component_id, seen, at, muted=muted is not None, trigger=trigger
            )
            if incident_id is not None:
                await link_unlinked_alerts(
                    session=session, component_id=component_id, incident_id=incident_id
                )
        return changed

    async def _link(self, session: AsyncSession, alert: AlertRow) -> None:
        incident = await open_incident_for(session=session, component_ids={alert.component_id})
        if incident is not None:
            await link_alert_to_incident(
                session=session, alert_id=alert.id, incident_id=incident.id
            )
