"""The alert engine: probe results in; alert, component and incident changes out, in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerting import CheckState, Transition, advance
from monitor.clock import Clock
from monitor.config import CheckConfig, Config
from monitor.domain import worst_status
from monitor.incidents import IncidentManager
from monitor.result_writer import ResultWriter
from monitor.storage.alerts import (
    firing_alert,
    firing_check_alerts,
    firing_statuses,
    link_alert_to_incident,
    open_alert,
    resolve_alert,
)
from monitor.storage.catalog import sync_catalog
from monitor.storage.checks import load_check_states, reset_orphan_check_states, save_check_state
from monitor.storage.components import component_status, set_component_status
from monitor.storage.database import Database
from monitor.storage.incidents import open_incident_for
from monitor.storage.timeline import append_event
from probes import ProbeResult

log = logging.getLogger(__name__)
OnChange = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class AlertEngine:
    """Applies each probe result; every state change is in the database, so a restart continues."""

    def __init__(
        self,
        database: Database,
        config: Config,
        clock: Clock,
        writer: ResultWriter,
        on_change: OnChange = _nothing,
    ) -> None:
        self._database = database
        self._writer = writer
        # Alert states live in memory for speed and in the database for restarts: every change
        # of state is written before it is used, and start() loads them back.
        self._states: dict[str, CheckState] = {}
        self._config = config
        self._clock = clock
        self._on_change = on_change
        self._incidents = IncidentManager(config)
        # One writer at a time: results arrive concurrently, state changes must not interleave.
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Bring the catalog in step with the config; close alerts of checks removed or moved."""
        at = self._clock.now()
        placement = {c.id: c.component for c in self._config.checks}
        async with self._lock, self._database.transaction() as session:
            await sync_catalog(session=session, config=self._config, now=at)
            for alert in await firing_check_alerts(session=session):
                where = placement.get(alert.check_id or "")
                if where == alert.component_id:
                    continue
                reason = (
                    "the check was removed from the config"
                    if where is None
                    else f"the check now watches {where}"
                )
                await resolve_alert(session=session, alert_id=alert.id, at=at)
                await append_event(
                    session=session,
                    at=at,
                    kind="alert_recovered",
                    alert_id=alert.id,
                    check_id=alert.check_id,
                    component_id=alert.component_id,
                    reason=reason,
                )
                await self._refresh_component(session, alert.component_id, at)
            # A check whose alert was closed above (or that comes back later) starts from ok.
            await reset_orphan_check_states(session=session)
            self._states = await load_check_states(session=session)

    async def ingest(self, check: CheckConfig, result: ProbeResult) -> None:
        """Apply one probe result; the raw result goes to the batched writer.

        A database failure leaves the check's state where it was, so the next result retries
        the transition; it never stops the engine.
        """
        at = self._clock.now()
        changed = False
        try:
            async with self._lock:
                changed = await self._advance(check, result, at)
        except (SQLAlchemyError, OSError) as error:
            log.error("check %s: state change not saved, retried next run: %s", check.id, error)
        except Exception:  # a bug must cost one result, never the engine
            log.exception("check %s: result not applied: unexpected error", check.id)
        self._writer.add(check, result, at, self._states.get(check.id, CheckState()))
        if changed:
            await self._on_change()

    async def _advance(self, check: CheckConfig, result: ProbeResult, at: datetime) -> bool:
        """Move the check's state; only a change of state costs a transaction."""
        before = self._states.get(check.id, CheckState())
        after, transition = advance(
            before, result.ok, check.failures_to_alert, check.successes_to_recover
        )
        changed = False
        if after.state != before.state:
            changed = await self._apply_in_transaction(check, result, after, transition, at)
        self._states[check.id] = after
        return changed

    async def _apply_in_transaction(
        self,
        check: CheckConfig,
        result: ProbeResult,
        after: CheckState,
        transition: Transition | None,
        at: datetime,
    ) -> bool:
        async with self._database.transaction() as session:
            await save_check_state(
                session=session, check_id=check.id, state=after, result=result, at=at
            )
            if transition is None:
                return False
            alert_id, alert_component = await self._apply_transition(
                session, check, transition, result, at
            )
            changed = await self._refresh_component(session, check.component, at)
            if alert_component != check.component:  # the check moved to another component
                changed |= await self._refresh_component(session, alert_component, at)
            if alert_id is not None:
                await self._link(session, check.component, alert_id)
            return changed

    async def _apply_transition(
        self,
        session: AsyncSession,
        check: CheckConfig,
        transition: Transition,
        result: ProbeResult,
        at: datetime,
    ) -> tuple[int | None, str]:
        """Open or resolve the check's alert; return the opened alert's id and the alert's component."""
        fingerprint = f"check:{check.id}"
        if transition is Transition.FIRED:
            alert = await open_alert(
                session=session,
                fingerprint=fingerprint,
                check_id=check.id,
                component_id=check.component,
                failure_status=check.failure_status,
                summary=result.failure_reason or "failed",
                at=at,
            )
            await append_event(
                session=session,
                at=at,
                kind="alert_fired",
                alert_id=alert.id,
                check_id=check.id,
                component_id=check.component,
                reason=alert.summary,
                data={"failure_status": str(check.failure_status)},
            )
            return alert.id, alert.component_id
        firing = await firing_alert(session=session, fingerprint=fingerprint)
        if firing is not None:
            await resolve_alert(session=session, alert_id=firing.id, at=at)
            await append_event(
                session=session,
                at=at,
                kind="alert_recovered",
                alert_id=firing.id,
                check_id=check.id,
                component_id=check.component,
                reason=f"{check.successes_to_recover} successful runs in a row",
            )
            return None, firing.component_id
        return None, check.component

    async def _refresh_component(
        self, session: AsyncSession, component_id: str, at: datetime
    ) -> bool:
        """Recompute a component's status from its firing alerts; True if it changed."""
        old = await component_status(session=session, component_id=component_id)
        new = worst_status(await firing_statuses(session=session, component_id=component_id))
        if new == old:
            return False
        await set_component_status(session=session, component_id=component_id, status=new, at=at)
        await append_event(
            session=session,
            at=at,
            kind="component_status_changed",
            component_id=component_id,
            data={"from": str(old), "to": str(new)},
        )
        await self._incidents.component_changed(session, component_id, new, at)
        return True

    async def _link(self, session: AsyncSession, component_id: str, alert_id: int) -> None:
        incident = await open_incident_for(session=session, component_ids={component_id})
        if incident is not None:
            await link_alert_to_incident(
                session=session, alert_id=alert_id, incident_id=incident.id
            )
