"""Incidents follow component status: open, join, reclassify (never down by itself), resolve."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor import wording
from monitor.config import Config
from monitor.domain import ComponentStatus, IncidentStatus
from monitor.severity import ComponentFacts, classify
from monitor.storage.components import component_facts
from monitor.storage.incidents import (
    IncidentRow,
    NewIncident,
    add_incident_component,
    add_update,
    incident_component_ids,
    last_update_at,
    open_incident,
    open_incident_for,
    rename_incident,
    resolve_incident,
    set_severity,
)
from monitor.storage.timeline import append_event

log = logging.getLogger(__name__)
JOIN_UPDATE_QUIET_S = 120.0


class IncidentManager:
    """Turns component status changes into incident changes, each with its timeline event."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._names = {c.id: {"ja": c.names.ja, "en": c.names.en} for c in config.components}
        self._related = _related_components(config)
        self._ancestors = _ancestors(config)

    async def component_changed(
        self, session: AsyncSession, component_id: str, status: ComponentStatus, at: datetime
    ) -> int | None:
        """React to a component's new status; return the incident it belongs to, if any."""
        if status in (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE):
            await self._maybe_resolve(session, component_id, at)
            return None
        facts = await component_facts(session=session)
        incident = await open_incident_for(session=session, component_ids={component_id})
        incident = incident or await open_incident_for(
            session=session, component_ids=self._related.get(component_id, set())
        )
        if incident is None:
            incident = await self._open(session, facts, component_id, status, at)
        else:
            await self._join(session, incident, component_id, status, at)
        await self._reclassify(session, incident, facts, at)
        return incident.id

    async def _open(
        self,
        session: AsyncSession,
        facts: dict[str, ComponentFacts],
        component_id: str,
        status: ComponentStatus,
        at: datetime,
    ) -> IncidentRow:
        names = self._names[component_id]
        decision = classify([facts[component_id]], list(facts.values()), self._config.severity)
        title = wording.incident_name(names, status)
        new = NewIncident(
            title["ja"], title["en"], decision.severity, decision.reason, started_at=at
        )
        incident = await open_incident(session=session, new=new, at=at)
        await add_incident_component(
            session=session,
            incident_id=incident.id,
            component_id=component_id,
            status=status,
            at=at,
        )
        await append_event(
            session=session,
            at=at,
            kind="incident_opened",
            incident_id=incident.id,
            component_id=component_id,
            reason=decision.reason,
            data={"severity": str(decision.severity), "status": str(status)},
        )
        await self._post(
            session,
            incident.id,
            IncidentStatus.INVESTIGATING,
            wording.opened_text(names, status),
            at,
        )
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
            session=session,
            at=at,
            kind="component_joined",
            incident_id=incident.id,
            component_id=component_id,
            data={"status": str(status)},
        )
        is_root = await self._retitle_if_root(session, incident.id, component_id, status, at)
        # Dependents fail together within seconds: one public update says more than five.
        latest = await last_update_at(session=session, incident_id=incident.id)
        names = self._names[component_id]
        if is_root:
            ids = await incident_component_ids(session=session, incident_id=incident.id)
            dependents = [self._names[i] for i in ids if i != component_id and i in self._names]
            await self._post(
                session,
                incident.id,
                incident.status,
                wording.root_text(names, status, dependents),
                at,
            )
        elif latest is None or (at - latest).total_seconds() >= JOIN_UPDATE_QUIET_S:
            await self._post(
                session, incident.id, incident.status, wording.joined_text(names, status), at
            )

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
        if not all(
            component_id in self._ancestors.get(other, set())
            for other in ids
            if other != component_id
        ):
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
            session=session,
            at=at,
            kind="incident_renamed",
            incident_id=incident_id,
            component_id=component_id,
            reason=f"{component_id} is what the other affected components depend on",
            data={"name_en": title["en"], "name_ja": title["ja"]},
        )
        log.info("incident #%s renamed after %s: %s", incident_id, component_id, title["en"])
        return True

    async def _reclassify(
        self,
        session: AsyncSession,
        incident: IncidentRow,
        facts: dict[str, ComponentFacts],
        at: datetime,
    ) -> None:
        ids = await incident_component_ids(session=session, incident_id=incident.id)
        decision = classify(
            [facts[i] for i in ids if i in facts], list(facts.values()), self._config.severity
        )
        # Severity only rises by itself; lowering it is a human decision (DESIGN.md).
        if decision.severity.rank <= incident.severity.rank:
            return
        await set_severity(
            session=session,
            incident_id=incident.id,
            severity=decision.severity,
            reason=decision.reason,
            at=at,
        )
        await append_event(
            session=session,
            at=at,
            kind="severity_changed",
            incident_id=incident.id,
            reason=decision.reason,
            data={"from": str(incident.severity), "to": str(decision.severity)},
        )
        log.info("incident #%s severity raised: %s", incident.id, decision.reason)

    async def _maybe_resolve(self, session: AsyncSession, component_id: str, at: datetime) -> None:
        incident = await open_incident_for(session=session, component_ids={component_id})
        if incident is None:
            return
        facts = await component_facts(session=session)
        ids = await incident_component_ids(session=session, incident_id=incident.id)
        if any(
            facts[i].status.rank > ComponentStatus.UNDER_MAINTENANCE.rank for i in ids if i in facts
        ):
            return
        await resolve_incident(session=session, incident_id=incident.id, at=at)
        await append_event(
            session=session,
            at=at,
            kind="incident_resolved",
            incident_id=incident.id,
            reason="every affected component is operational again",
        )
        log.info("incident #%s resolved: every affected component is operational", incident.id)
        names = [self._names[i] for i in ids if i in self._names]
        await self._post(
            session, incident.id, IncidentStatus.RESOLVED, wording.resolved_text(names), at
        )

    async def _post(
        self,
        session: AsyncSession,
        incident_id: int,
        status: IncidentStatus,
        text: dict[str, str],
        at: datetime,
    ) -> None:
        update_id = await add_update(
            session=session,
            incident_id=incident_id,
            status=status,
            body_ja=text["ja"],
            body_en=text["en"],
            at=at,
        )
        await append_event(
            session=session,
            at=at,
            kind="update_posted",
            incident_id=incident_id,
            data={"update_id": update_id, "status": str(status)},
        )


def _related_components(config: Config) -> dict[str, set[str]]:
    """Return, per component, every component linked to it through depends_on (either way)."""
    links: dict[str, set[str]] = {c.id: set() for c in config.components}
    for component in config.components:
        for parent in component.depends_on:
            links[component.id].add(parent)
            links[parent].add(component.id)
    return {start: _reachable(links, start) - {start} for start in links}


def _ancestors(config: Config) -> dict[str, set[str]]:
    """Return, per component, every component it depends on directly or indirectly."""
    parents = {c.id: set(c.depends_on) for c in config.components}
    return {start: _reachable(parents, start) - {start} for start in parents}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(graph[node])
    return seen
