"""Time-driven incident work, run by the ticker: resolve after quiet, rise past the time budget,
page the next escalation level, remind responders to post an update, settle flapping alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config.policies import IncidentPolicy
from monitor.domain import IncidentStatus, Severity
from monitor.engine import AlertEngine
from monitor.escalation import Escalator
from monitor.incidents import IncidentManager
from monitor.reload.live import ConfigSource, live_config
from monitor.severity import Classification, one_class_up
from monitor.storage.incidents import IncidentRow, last_update_at, open_incidents, update_incident
from monitor.storage.timeline import append_event
from probes.durations import format_duration


class IncidentClock:
    """One ``tick(now)`` does every piece of incident work that is due."""

    def __init__(self, engine: AlertEngine, config: ConfigSource) -> None:
        self._engine = engine
        self._live = live_config(config)

    # Asked at each use, never kept: a reload replaces the config and the engine's manager.
    @property
    def _policy(self) -> IncidentPolicy:
        return self._live.current.incidents

    @property
    def _incidents(self) -> IncidentManager:
        return self._engine.incidents

    @property
    def _escalator(self) -> Escalator:
        return self._engine.incidents.escalator

    async def tick(self, now: datetime) -> int:
        """Do what is due at ``now``; return how many changes were made."""
        # Most ticks find nothing due: only a change re-renders the public page.
        async with self._engine.exclusive(publish=False) as session:
            done = await self._engine.settle_flapping(session, now)
            for incident in await open_incidents(session=session):
                done += await self._due(session, incident, now)
        if done:
            await self._engine.publish()
        return done

    async def _due(self, session: AsyncSession, incident: IncidentRow, now: datetime) -> int:
        if await self._resolve_if_quiet(session, incident, now):
            return 1
        done = int(await self._rise_if_over_budget(session, incident, now))
        if done:  # the rise restarted escalation; read the incident again for the rest
            return done
        done += int(await self._escalator.page_due(session, incident, now))
        done += int(await self._remind_if_silent(session, incident, now))
        return done

    async def _resolve_if_quiet(
        self, session: AsyncSession, incident: IncidentRow, now: datetime
    ) -> bool:
        wait = self._policy.resolve_after.get(incident.severity)
        if incident.recovered_at is None or wait is None:
            return False
        if now - incident.recovered_at < timedelta(seconds=wait):
            return False
        reason = f"recovered for {format_duration(wait)} with no alert firing again"
        await self._incidents.resolve(session, incident, now, reason=reason)
        return True

    async def _rise_if_over_budget(
        self, session: AsyncSession, incident: IncidentRow, now: datetime
    ) -> bool:
        budget = self._policy.time_budget.get(incident.severity)
        since = incident.severity_since or incident.started_at
        if budget is None or since is None or incident.severity == Severity.CRITICAL:
            return False
        if now - since < timedelta(seconds=budget):
            return False
        higher = one_class_up(incident.severity)
        reason = (
            f"{higher}: unresolved for {format_duration(budget)}, "
            f"past the {incident.severity} time budget"
        )
        await self._incidents.change_severity(
            session, incident, Classification(higher, reason), now
        )
        return True

    async def _remind_if_silent(
        self, session: AsyncSession, incident: IncidentRow, now: datetime
    ) -> bool:
        every = self._policy.update_every.get(incident.severity)
        if every is None or incident.status == IncidentStatus.RESOLVED:
            return False
        latest = await last_update_at(session=session, incident_id=incident.id)
        marks = [t for t in (latest, incident.last_reminder_at, incident.started_at) if t]
        if not marks or now - max(marks) < timedelta(seconds=every):
            return False
        targets = self._reminder_targets(incident)
        await append_event(
            session=session, at=now, kind="reminder", incident_id=incident.id,
            reason=f"no public update for {format_duration(every)}: post the current situation",
            data={"targets": targets, "severity": str(incident.severity)},
        )  # fmt: skip
        await update_incident(session=session, incident_id=incident.id, last_reminder_at=now)
        return True

    def _reminder_targets(self, incident: IncidentRow) -> list[str]:
        """The responders of the level paged last (who should be working on it)."""
        levels = self._escalator.levels(incident.severity)
        if not levels:
            return []
        return list(levels[min(incident.escalation_level, len(levels) - 1)].targets)
