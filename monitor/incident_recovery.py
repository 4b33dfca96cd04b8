"""The end of an incident: recovery, monitoring, auto-resolve and resolve.

When every affected component is healthy again and no alert of the incident still fires, the
incident is recovered: it resolves at once if its class's ``resolve_after`` is 0, else it waits
in monitoring (the incident clock resolves it later). A component failing again meanwhile
interrupts the recovery. Manual incidents never recover by themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor import wording
from monitor.config import Config
from monitor.domain import ComponentStatus, IncidentStatus
from monitor.incident_posts import post_update
from monitor.storage.alerts import firing_alerts
from monitor.storage.components import component_facts
from monitor.storage.incidents import (
    IncidentRow,
    incident_component_ids,
    open_incident_for,
    resolve_incident,
    update_incident,
)
from monitor.storage.timeline import append_event

log = logging.getLogger(__name__)
OnResolved = Callable[[AsyncSession, int, datetime], Awaitable[None]]
HEALTHY = (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE)
_ALL_RECOVERED = "every affected component is operational again"


async def _nothing(_session: AsyncSession, _incident_id: int, _at: datetime) -> None:
    return None


class IncidentRecovery:
    """Recovers, interrupts the recovery of, and resolves incidents, each with its event."""

    def __init__(self, config: Config, names: dict[str, dict[str, str]]) -> None:
        self._config = config
        self._names = names
        # Set by the engine: what else a resolve ends (statuses a responder showed for it).
        self.on_resolved: OnResolved = _nothing

    async def component_recovered(
        self, session: AsyncSession, component_id: str, at: datetime
    ) -> None:
        """Recover the component's incident if everything in it is healthy: monitor or resolve."""
        incident = await open_incident_for(session=session, component_ids={component_id})
        if incident is None or incident.origin == "manual" or incident.recovered_at is not None:
            return
        if not await self._all_recovered(session, incident.id):
            return
        await update_incident(session=session, incident_id=incident.id, recovered_at=at)
        await append_event(
            session=session, at=at, kind="incident_recovered", incident_id=incident.id,
            reason=_ALL_RECOVERED,
        )  # fmt: skip
        if self._config.incidents.resolve_after.get(incident.severity) == 0:
            await self.resolve(session, incident, at, reason=_ALL_RECOVERED)
            return
        ids = await incident_component_ids(session=session, incident_id=incident.id)
        text = wording.monitoring_text(self._names_of(ids))
        await update_incident(
            session=session, incident_id=incident.id, status=str(IncidentStatus.MONITORING),
            monitoring_at=at,
        )  # fmt: skip
        await post_update(session, incident.id, IncidentStatus.MONITORING, text, at)

    async def relapse(
        self, session: AsyncSession, incident: IncidentRow, component_id: str, at: datetime
    ) -> None:
        """A component failed again while the incident waited to resolve: back to investigating."""
        await update_incident(
            session=session, incident_id=incident.id, recovered_at=None,
            status=str(IncidentStatus.INVESTIGATING), updated_at=at,
        )  # fmt: skip
        await append_event(
            session=session, at=at, kind="recovery_interrupted", incident_id=incident.id,
            component_id=component_id, reason=f"{component_id} is failing again",
        )  # fmt: skip
        text = wording.recurred_text(self._names[component_id])
        await post_update(session, incident.id, IncidentStatus.INVESTIGATING, text, at)

    async def resolve(
        self,
        session: AsyncSession,
        incident: IncidentRow,
        at: datetime,
        *,
        reason: str,
        actor: str = "engine",
        text: dict[str, str] | None = None,
    ) -> None:
        """Resolve an incident and post the resolved update (the responder's text or ours)."""
        await resolve_incident(session=session, incident_id=incident.id, at=at)
        await append_event(
            session=session, at=at, kind="incident_resolved", incident_id=incident.id,
            reason=reason, actor=actor,
        )  # fmt: skip
        log.info("incident #%s resolved: %s", incident.id, reason)
        if text is None:
            ids = await incident_component_ids(session=session, incident_id=incident.id)
            text = wording.resolved_text(self._names_of(ids))
        await post_update(session, incident.id, IncidentStatus.RESOLVED, text, at, actor=actor)
        await self.on_resolved(session, incident.id, at)

    async def _all_recovered(self, session: AsyncSession, incident_id: int) -> bool:
        if await firing_alerts(session=session, incident_id=incident_id):
            return False
        facts = await component_facts(session=session)
        ids = await incident_component_ids(session=session, incident_id=incident_id)
        return all(facts[i].status in HEALTHY for i in ids if i in facts)

    def _names_of(self, ids: Iterable[str]) -> list[dict[str, str]]:
        return [self._names[i] for i in ids if i in self._names]
