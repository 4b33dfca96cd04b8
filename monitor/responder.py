"""What a responder does to incidents: open one by hand, post updates, change severity or cause,
acknowledge, resolve, and override a component's public status (e.g. a deliberate trading halt).

Every action is one transaction under the engine's lock, with its timeline event naming the actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config import SeverityPolicy
from monitor.domain import ComponentStatus, IncidentStatus, Severity, parse_cause
from monitor.engine import AlertEngine
from monitor.incident_posts import post_update
from monitor.incidents import IncidentManager
from monitor.reload.live import ConfigSource, live_config
from monitor.severity import Classification, classify
from monitor.storage.alerts import firing_alerts
from monitor.storage.components import component_facts, component_row, set_override
from monitor.storage.incidents import (
    IncidentRow,
    NewIncident,
    add_incident_component,
    get_incident,
    open_incident,
    update_incident,
)
from monitor.storage.timeline import append_event


class ActionRefusedError(Exception):
    """A responder action that cannot be done, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ManualIncident:
    """The report fields of an incident a responder opens (seed 004 §2)."""

    name_ja: str
    name_en: str
    description: str  # what is wrong
    started_at: datetime  # when it started
    components: dict[str, ComponentStatus]  # impact scope, per component
    impact_scope: str | None = None
    reproduction: str | None = None
    reporter: str | None = None
    contact: str | None = None
    cause: str = "system"
    severity: Severity | None = None  # None: classified by the policy from the components
    body: dict[str, str] = field(default_factory=dict)  # first public update (ja, en)


class Responder:
    """Applies responders' actions through the engine's lock."""

    def __init__(self, engine: AlertEngine, config: ConfigSource) -> None:
        self._engine = engine
        self._live = live_config(config)
        self._components = self._live.derived(
            lambda c: {component.id for component in c.components}
        )

    @property
    def _manager(self) -> IncidentManager:
        # The engine's, asked each time: a reload gives the engine a new one.
        return self._engine.incidents

    @property
    def _policy(self) -> SeverityPolicy:
        return self._live.current.severity

    async def open(self, report: ManualIncident, at: datetime, *, actor: str) -> int:
        """Open an incident by hand; the named components show the given statuses."""
        self._check_components(report.components)
        parse_cause_or_refuse(report.cause)
        async with self._engine.exclusive() as session:
            decision = await self._classification(session, report)
            new = NewIncident(
                report.name_ja, report.name_en, decision.severity, decision.reason,
                started_at=report.started_at, origin="manual", cause=report.cause,
                report=_report_columns(report),
            )  # fmt: skip
            incident = await open_incident(session=session, new=new, at=at)
            await append_event(
                session=session, at=at, kind="incident_opened", incident_id=incident.id,
                reason=decision.reason, actor=actor,
                data={"severity": str(decision.severity), "origin": "manual", "cause": report.cause},
            )  # fmt: skip
            await self._affect(session, incident.id, report.components, at, actor=actor)
            body = report.body or {"ja": report.description, "en": report.description}
            await post_update(
                session, incident.id, IncidentStatus.INVESTIGATING, body, at, actor=actor
            )
            await self._manager.escalator.restart(session, incident.id, decision.severity, at)
            return incident.id

    async def _classification(
        self, session: AsyncSession, report: ManualIncident
    ) -> Classification:
        if report.severity is not None:
            return Classification(
                report.severity, f"{report.severity}: set by the responder who opened it"
            )
        facts = await component_facts(session=session)
        affected = [
            replace(facts[cid], status=status)
            for cid, status in report.components.items()
            if cid in facts
        ]
        return classify(affected, list(facts.values()), self._policy, report.cause)

    async def post(
        self,
        incident_id: int,
        status: IncidentStatus,
        text: dict[str, str],
        at: datetime,
        *,
        actor: str,
        components: dict[str, ComponentStatus] | None = None,
    ) -> int:
        """Post a public update; ``resolved`` resolves; component statuses are shown as given."""
        self._check_components(components or {})
        async with self._engine.exclusive() as session:
            incident = await self._open_incident(session, incident_id)
            before = {
                cid: (await component_row(session=session, component_id=cid)).status
                for cid in components or {}
            }
            if components:
                await self._affect(session, incident_id, components, at, actor=actor)
            if status == IncidentStatus.RESOLVED:
                await self._resolve(session, incident, at, actor=actor, text=text)
                return incident_id
            await update_incident(
                session=session, incident_id=incident_id, status=str(status), updated_at=at,
                **({"monitoring_at": at} if status == IncidentStatus.MONITORING else {}),
            )  # fmt: skip
            affected = [
                {"id": c, "status": str(s), "old_status": str(before[c])}
                for c, s in (components or {}).items()
            ]
            return await post_update(
                session, incident_id, status, text, at, actor=actor,
                affected_components=affected or None,
            )  # fmt: skip

    async def change_severity(
        self, incident_id: int, severity: Severity, reason: str, at: datetime, *, actor: str
    ) -> None:
        """Set the severity either way, with the responder's reason (audited in the timeline)."""
        async with self._engine.exclusive() as session:
            incident = await self._open_incident(session, incident_id)
            if incident.severity == severity:
                raise ActionRefusedError(409, f"incident #{incident_id} is already {severity}")
            words = f"{severity}: {reason} (set by {actor})"
            await self._manager.change_severity(
                session, incident, Classification(severity, words), at, actor=actor
            )

    async def set_cause(self, incident_id: int, cause: str, at: datetime, *, actor: str) -> None:
        """Record the cause category; a security cause makes the incident critical."""
        parse_cause_or_refuse(cause)
        async with self._engine.exclusive() as session:
            incident = await self._open_incident(session, incident_id)
            await update_incident(
                session=session, incident_id=incident_id, cause=cause, updated_at=at
            )
            await append_event(
                session=session, at=at, kind="cause_changed", incident_id=incident_id, actor=actor,
                data={"from": incident.cause, "to": cause},
            )  # fmt: skip
            # Only a security cause is a new fact for the policy; re-running it on any cause
            # change would undo a responder's deliberate lower severity.
            if _is_security(cause) and not _is_security(incident.cause):
                await self._manager.reclassify(session, incident_id, at)

    async def acknowledge(self, incident_id: int, at: datetime, *, actor: str) -> None:
        """Acknowledge: escalation stops; the first ack sets the incident's MTTA."""
        async with self._engine.exclusive() as session:
            incident = await self._open_incident(session, incident_id)
            if incident.acknowledged_at is not None:
                raise ActionRefusedError(409, f"incident #{incident_id} is already acknowledged")
            first = incident.first_acknowledged_at is None
            await update_incident(
                session=session, incident_id=incident_id, acknowledged_at=at,
                acknowledged_by=actor, next_page_at=None,
                first_acknowledged_at=at if first else incident.first_acknowledged_at,
            )  # fmt: skip
            opened = incident.created_at or at
            await append_event(
                session=session, at=at, kind="acknowledged", incident_id=incident_id, actor=actor,
                data={"seconds_to_acknowledge": (at - opened).total_seconds(), "first": first},
            )  # fmt: skip

    async def unacknowledge(self, incident_id: int, at: datetime, *, actor: str) -> None:
        """Take an ack back: escalation starts again from the first level."""
        async with self._engine.exclusive() as session:
            incident = await self._open_incident(session, incident_id)
            if incident.acknowledged_at is None:
                raise ActionRefusedError(409, f"incident #{incident_id} is not acknowledged")
            await update_incident(
                session=session, incident_id=incident_id, acknowledged_at=None, acknowledged_by=None
            )
            await append_event(
                session=session, at=at, kind="unacknowledged", incident_id=incident_id, actor=actor
            )
            await self._manager.escalator.restart(session, incident_id, incident.severity, at)

    async def resolve(
        self,
        incident_id: int,
        at: datetime,
        *,
        actor: str,
        text: dict[str, str] | None = None,
        force: bool = False,
    ) -> None:
        """Resolve by hand (also an incident whose policy waits for a human).

        Refused while alerts of the incident still fire, unless ``force``: a resolved incident
        with a live alert leaves that failure tracked by nobody.
        """
        async with self._engine.exclusive() as session:
            incident = await self._open_incident(session, incident_id)
            firing = await firing_alerts(session=session, incident_id=incident_id)
            if firing and not force:
                names = ", ".join(sorted({a.check_id or a.fingerprint for a in firing}))
                raise ActionRefusedError(
                    409, f"alerts of incident #{incident_id} still fire ({names}): "
                    "wait for them to recover, or resolve with force",
                )  # fmt: skip
            await self._resolve(session, incident, at, actor=actor, text=text)

    async def override(
        self,
        component_id: str,
        status: ComponentStatus | None,
        at: datetime,
        *,
        actor: str,
        reason: str,
        message: dict[str, str] | None = None,
    ) -> None:
        """Show ``status`` for a component whatever monitoring sees (None clears the override)."""
        self._check_components({component_id: status or ComponentStatus.OPERATIONAL})
        async with self._engine.exclusive() as session:
            current = await component_row(session=session, component_id=component_id)
            if status is None and current.override_status is None:
                raise ActionRefusedError(409, f"{component_id} has no override to clear")
            await set_override(
                session=session, component_id=component_id, status=status, message=message,
                reason=None if status is None else reason,
            )  # fmt: skip
            kind = "component_override_cleared" if status is None else "component_override_set"
            await append_event(
                session=session, at=at, kind=kind, component_id=component_id, actor=actor,
                reason=reason, data={"status": None if status is None else str(status), "message": message},
            )  # fmt: skip
            # Forced: an incident held open by the override may have recovered meanwhile.
            await self._engine.book.refresh_component(session, component_id, at, force=True)

    async def _resolve(
        self,
        session: AsyncSession,
        incident: IncidentRow,
        at: datetime,
        *,
        actor: str,
        text: dict[str, str] | None,
    ) -> None:
        # The manager's resolve also ends the statuses shown for this incident.
        await self._manager.resolve(
            session, incident, at, reason=f"resolved by {actor}", actor=actor, text=text
        )

    async def _affect(
        self,
        session: AsyncSession,
        incident_id: int,
        components: dict[str, ComponentStatus],
        at: datetime,
        *,
        actor: str,
    ) -> None:
        """Add components to the incident and show the responder's statuses for them.

        An override set for something else (a deliberate trading halt) is left as it is: its
        message and reason outlive this incident.
        """
        mine = f"incident #{incident_id}"
        for component_id, status in components.items():
            await add_incident_component(
                session=session, incident_id=incident_id, component_id=component_id,
                status=status, at=at,
            )  # fmt: skip
            current = await component_row(session=session, component_id=component_id)
            if current.override_status is not None and current.override_reason != mine:
                continue
            shown = None if status == ComponentStatus.OPERATIONAL else status
            await set_override(
                session=session, component_id=component_id, status=shown, message=None,
                reason=None if shown is None else mine,
            )  # fmt: skip
            await self._engine.book.refresh_component(session, component_id, at, force=True)

    async def _open_incident(self, session: AsyncSession, incident_id: int) -> IncidentRow:
        incident = await get_incident(session=session, incident_id=incident_id)
        if incident is None:
            raise ActionRefusedError(404, f"no incident #{incident_id}")
        if incident.status == IncidentStatus.RESOLVED:
            raise ActionRefusedError(409, f"incident #{incident_id} is already resolved")
        return incident

    def _check_components(self, components: dict[str, ComponentStatus]) -> None:
        unknown = sorted(set(components) - self._components())
        if unknown:
            raise ActionRefusedError(422, f"unknown component(s): {', '.join(unknown)}")


def _is_security(cause: str) -> bool:
    return cause.partition("/")[0] == "security"


def _report_columns(report: ManualIncident) -> dict[str, str | None]:
    return {
        "description": report.description,
        "impact_scope": report.impact_scope,
        "reproduction": report.reproduction,
        "reporter": report.reporter,
        "contact": report.contact,
    }


def parse_cause_or_refuse(cause: str) -> None:
    """Refuse a cause that is not a known category (with detail)."""
    try:
        parse_cause(cause)
    except ValueError as error:
        raise ActionRefusedError(422, f"cause: {error}") from None
