"""Incidents follow what monitoring sees: open, join, reopen, reclassify (only up), recover, resolve.

Which incident a failing component belongs to, in order: the open incident it is already in;
the open incident of a component it depends on that is down now (no storm of pages: children
join their parent's incident); an open incident of a related component that started within
``group_window``; the incident its alert was in, if that was resolved within ``reopen_window``
(reopened). Otherwise a new incident opens, unless maintenance mutes the component.
Recovery, monitoring and resolving are ``monitor.incident_recovery``'s.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor import wording
from monitor.alert_input import NewAlert
from monitor.component_graph import ComponentGraph
from monitor.config import Config
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.escalation import Escalator
from monitor.incident_posts import post_update
from monitor.incident_recovery import HEALTHY, IncidentRecovery, OnResolved
from monitor.severity import Classification, ComponentFacts, classify
from monitor.storage.components import component_facts
from monitor.storage.incidents import (
    IncidentRow,
    NewIncident,
    add_incident_component,
    get_incident,
    incident_component_ids,
    last_update_at,
    open_incident,
    open_incident_for,
    recently_resolved_with_alert,
    rename_incident,
    set_severity,
    update_incident,
)
from monitor.storage.timeline import append_event

log = logging.getLogger(__name__)
JOIN_UPDATE_QUIET_S = 120.0


class IncidentManager:
    """Turns what monitoring sees into incident changes, each with its timeline event."""

    def __init__(self, config: Config, escalator: Escalator | None = None) -> None:
        self._config = config
        self._names = {c.id: {"ja": c.names.ja, "en": c.names.en} for c in config.components}
        self._graph = ComponentGraph(config)
        self.escalator = escalator or Escalator(config.escalation)
        self._recovery = IncidentRecovery(config, self._names)
        # Resolve an incident and post the resolved update (the responder's text or ours).
        self.resolve = self._recovery.resolve

    @property
    def on_resolved(self) -> OnResolved:
        """What else a resolve ends (statuses a responder showed for it); set by the engine."""
        return self._recovery.on_resolved

    @on_resolved.setter
    def on_resolved(self, callback: OnResolved) -> None:
        self._recovery.on_resolved = callback

    async def component_changed(
        self,
        session: AsyncSession,
        component_id: str,
        status: ComponentStatus,
        at: datetime,
        *,
        muted: bool = False,
        trigger: NewAlert | None = None,
    ) -> int | None:
        """React to what monitoring now sees of a component; return its incident, if any."""
        if status in HEALTHY:
            await self._recovery.component_recovered(session, component_id, at)
            return None
        facts = await component_facts(session=session)
        if muted:
            # Maintenance: an incident already open for the component goes on; nothing else
            # (no new incident, no reopening, no joining a neighbour's incident).
            incident = await open_incident_for(session=session, component_ids={component_id})
        else:
            incident = await self._incident_to_join(session, component_id, facts, at, trigger)
        if incident is None:
            if muted:
                return None  # recorded as an alert; maintenance opens no incident
            incident = await self._open(session, facts, component_id, status, at, trigger=trigger)
        else:
            await self._join(session, incident, component_id, status, at)
        await self.reclassify(session, incident.id, at, facts=facts)
        return incident.id

    async def reported(
        self, session: AsyncSession, alert: NewAlert, at: datetime, *, muted: bool
    ) -> int | None:
        """Open a minor incident for an alert that sets no status (user reports), if none is open."""
        component_id = alert.component_id
        existing = await open_incident_for(session=session, component_ids={component_id})
        if existing is not None or muted:
            return None if existing is None else existing.id
        names = self._names[component_id]
        decision = Classification(Severity.MINOR, f"minor: {alert.summary} (user-reported)")
        status = ComponentStatus.OPERATIONAL
        incident = await self._create(
            session, component_id, at, title=wording.reported_name(names), decision=decision,
            status=status, cause=alert.cause,
        )  # fmt: skip
        await post_update(
            session, incident.id, IncidentStatus.INVESTIGATING, wording.reported_text(names), at
        )
        return incident.id

    async def _incident_to_join(
        self,
        session: AsyncSession,
        component_id: str,
        facts: dict[str, ComponentFacts],
        at: datetime,
        trigger: NewAlert | None,
    ) -> IncidentRow | None:
        own = await open_incident_for(session=session, component_ids={component_id})
        if own is not None:
            return own
        down = {
            a
            for a in self._graph.ancestors(component_id)
            if a in facts and facts[a].status not in HEALTHY
        }
        parents = await open_incident_for(session=session, component_ids=down) if down else None
        if parents is not None:
            return parents
        related = await open_incident_for(
            session=session, component_ids=self._graph.related(component_id)
        )
        window = timedelta(seconds=self._config.incidents.group_window)
        if related is not None and related.started_at and at - related.started_at <= window:
            return related
        return await self._reopen(session, trigger, at)

    async def _reopen(
        self, session: AsyncSession, trigger: NewAlert | None, at: datetime
    ) -> IncidentRow | None:
        """Reopen the incident this alert was in, if it was resolved within ``reopen_window``."""
        if trigger is None:
            return None
        since = at - timedelta(seconds=self._config.incidents.reopen_window)
        found = await recently_resolved_with_alert(
            session=session, fingerprint=trigger.fingerprint, since=since
        )
        if found is None:
            return None
        # A reopened incident is live again: its old ack no longer means someone is on it.
        await update_incident(
            session=session, incident_id=found.id, status=str(IncidentStatus.INVESTIGATING),
            resolved_at=None, recovered_at=None, acknowledged_at=None, acknowledged_by=None,
            severity_since=at, updated_at=at,
        )  # fmt: skip
        await append_event(
            session=session, at=at, kind="incident_reopened", incident_id=found.id,
            component_id=trigger.component_id, reason=f"{trigger.summary}: the same alert fired again",
        )  # fmt: skip
        names = self._names[trigger.component_id]
        await post_update(
            session, found.id, IncidentStatus.INVESTIGATING, wording.recurred_text(names), at
        )
        await self.escalator.restart(session, found.id, found.severity, at)
        log.info("incident #%s reopened: %s fired again", found.id, trigger.fingerprint)
        return await get_incident(session=session, incident_id=found.id)

    async def _open(
        self,
        session: AsyncSession,
        facts: dict[str, ComponentFacts],
        component_id: str,
        status: ComponentStatus,
        at: datetime,
        *,
        trigger: NewAlert | None,
    ) -> IncidentRow:
        names = self._names[component_id]
        cause = (trigger.cause if trigger else None) or "system"
        decision = classify(
            [facts[component_id]], list(facts.values()), self._config.severity, cause
        )
        incident = await self._create(
            session, component_id, at, title=wording.incident_name(names, status),
            decision=decision, status=status, cause=cause,
        )  # fmt: skip
        await post_update(
            session,
            incident.id,
            IncidentStatus.INVESTIGATING,
            wording.opened_text(names, status),
            at,
        )
        return incident

    async def _create(
        self,
        session: AsyncSession,
        component_id: str,
        at: datetime,
        *,
        title: dict[str, str],
        decision: Classification,
        status: ComponentStatus,
        cause: str | None,
    ) -> IncidentRow:
        new = NewIncident(
            title["ja"], title["en"], decision.severity, decision.reason, started_at=at,
            cause=cause or "system",
        )  # fmt: skip
        incident = await open_incident(session=session, new=new, at=at)
        await add_incident_component(
            session=session,
            incident_id=incident.id,
            component_id=component_id,
            status=status,
            at=at,
        )
        await append_event(
            session=session, at=at, kind="incident_opened", incident_id=incident.id,
            component_id=component_id, reason=decision.reason,
            data={"severity": str(decision.severity), "status": str(status), "cause": new.cause},
        )  # fmt: skip
        await self.escalator.restart(session, incident.id, decision.severity, at)
        log.info("incident #%s opened: %s — %s", incident.id, title["en"], decision.reason)
        return incident

    async def _join(
        self,
        session: AsyncSession,
        incident: IncidentRow,
        component_id: str,
        status: ComponentStatus,
        at: datetime,
    ) -> None:
        if incident.recovered_at is not None:
            await self._recovery.relapse(session, incident, component_id, at)
        added = await add_incident_component(
            session=session,
            incident_id=incident.id,
            component_id=component_id,
            status=status,
            at=at,
        )
        if not added:
            return
        await append_event(
            session=session, at=at, kind="component_joined", incident_id=incident.id,
            component_id=component_id, data={"status": str(status)},
        )  # fmt: skip
        is_root = await self._retitle_if_root(session, incident.id, component_id, status, at)
        names = self._names[component_id]
        if is_root:
            ids = await incident_component_ids(session=session, incident_id=incident.id)
            dependents = [self._names[i] for i in ids if i != component_id and i in self._names]
            text = wording.root_text(names, status, dependents)
            await post_update(session, incident.id, incident.status, text, at)
            return
        # Dependents fail together within seconds: one public update says more than five.
        latest = await last_update_at(session=session, incident_id=incident.id)
        if latest is None or (at - latest).total_seconds() >= JOIN_UPDATE_QUIET_S:
            text = wording.joined_text(names, status)
            await post_update(session, incident.id, incident.status, text, at)

    async def _retitle_if_root(
        self,
        session: AsyncSession,
        incident_id: int,
        component_id: str,
        status: ComponentStatus,
        at: datetime,
    ) -> bool:
        """Name the incident after the component the others depend on, once it is affected too.

        Dependents often fail a moment before their parent's own check notices; the title
        should still say "Trading engine", not "BTC/JPY trading".
        """
        ids = await incident_component_ids(session=session, incident_id=incident_id)
        if not all(component_id in self._graph.ancestors(o) for o in ids if o != component_id):
            return False
        title = wording.incident_name(self._names[component_id], status)
        await rename_incident(
            session=session,
            incident_id=incident_id,
            name_ja=title["ja"],
            name_en=title["en"],
            at=at,
        )
        await append_event(
            session=session, at=at, kind="incident_renamed", incident_id=incident_id,
            component_id=component_id,
            reason=f"{component_id} is what the other affected components depend on",
            data={"name_en": title["en"], "name_ja": title["ja"]},
        )  # fmt: skip
        log.info("incident #%s renamed after %s: %s", incident_id, component_id, title["en"])
        return True

    async def reclassify(
        self,
        session: AsyncSession,
        incident_id: int,
        at: datetime,
        *,
        facts: dict[str, ComponentFacts] | None = None,
    ) -> None:
        """Raise the incident's severity if the policy now gives a higher class (never lower)."""
        incident = await get_incident(session=session, incident_id=incident_id)
        if incident is None or incident.status == IncidentStatus.RESOLVED:
            return
        facts = facts if facts is not None else await component_facts(session=session)
        ids = await incident_component_ids(session=session, incident_id=incident.id)
        decision = classify(
            [facts[i] for i in ids if i in facts], list(facts.values()), self._config.severity,
            incident.cause,
        )  # fmt: skip
        # Severity only rises by itself; lowering it is a human decision (DESIGN.md).
        if decision.severity.rank > incident.severity.rank:
            await self.change_severity(session, incident, decision, at)

    async def change_severity(
        self,
        session: AsyncSession,
        incident: IncidentRow,
        decision: Classification,
        at: datetime,
        *,
        actor: str = "engine",
    ) -> None:
        """Store a new class with its reason; a rise restarts escalation at the new class."""
        await set_severity(
            session=session, incident_id=incident.id, severity=decision.severity,
            reason=decision.reason, at=at,
        )  # fmt: skip
        await append_event(
            session=session, at=at, kind="severity_changed", incident_id=incident.id,
            reason=decision.reason, actor=actor,
            data={"from": str(incident.severity), "to": str(decision.severity)},
        )  # fmt: skip
        log.info("incident #%s severity %s: %s", incident.id, decision.severity, decision.reason)
        if decision.severity.rank > incident.severity.rank:
            # A rise is a new situation: the new class's people are paged even if acked before.
            await update_incident(
                session=session, incident_id=incident.id, acknowledged_at=None, acknowledged_by=None
            )
            await self.escalator.restart(session, incident.id, decision.severity, at)
