"""The alert engine: probe results in; alert, component and incident changes out, in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alert_book import AlertBook, NewAlert
from monitor.alerting import CheckState, Transition, advance
from monitor.clock import Clock
from monitor.config import CheckConfig, Config
from monitor.config.models import LOCAL_REGION
from monitor.flapping import FlapTracker
from monitor.incidents import IncidentManager
from monitor.mutes import MaintenanceMutes, Mutes
from monitor.quorum import quorum_transition
from monitor.region_guard import RegionGuard
from monitor.reload.live import ConfigSource, live_config
from monitor.result_writer import ResultWriter
from monitor.storage.alerts import (
    AlertRow,
    firing_alert,
    firing_check_alerts,
    flapping_alerts,
    mark_flapping,
)
from monitor.storage.catalog import sync_catalog
from monitor.storage.checks import (
    ensure_check_regions,
    forget_check_regions,
    load_region_states,
    reset_check_states,
    save_region_state,
)
from monitor.storage.components import overrides_with_reason, set_override
from monitor.storage.database import Database
from monitor.storage.timeline import append_event
from monitor.tracing import tracer
from monitor.write_refused import WriteRefusedError
from probes import ProbeResult

log = logging.getLogger(__name__)
_tracer = tracer(__name__)
OnChange = Callable[[], Awaitable[None]]
Record = Callable[[AsyncSession, datetime], Awaitable[None]]
WriteGuard = Callable[[AsyncSession], Awaitable[None]]
"""Runs first in every engine transaction: may wait (serialize) or raise (refuse the write)."""


async def _nothing() -> None:
    return None


async def _unguarded(_: AsyncSession) -> None:
    return None


def stale_after(check: CheckConfig) -> float:
    """Seconds without a result after which a region's state no longer counts."""
    return 3 * check.interval + check.timeout + 60


# A silent region's last state blocks a recovery for this many stale periods, then is forgotten:
# one dead agent must not keep an incident open for ever.
FORGET_AFTER = 10


def _checks_by_id(config: Config) -> dict[str, CheckConfig]:
    return {c.id: c for c in config.checks}


class AlertEngine:
    """Applies each probe result; every state change is in the database, so a restart continues.

    ``config`` is a fixed config or the ``LiveConfig`` holder a reload replaces (``reconfigure``).
    """

    def __init__(
        self,
        database: Database,
        config: ConfigSource,
        clock: Clock,
        writer: ResultWriter,
        on_change: OnChange = _nothing,
        *,
        mutes: Mutes | None = None,
        incidents: IncidentManager | None = None,
        guard: WriteGuard | None = None,
    ) -> None:
        self._database = database
        # Several processes share one database (``--role``): the guard serializes their engine
        # writes and refuses a deposed leader's (monitor.cluster.write_guard).
        self._write_guard = guard or _unguarded
        self._writer = writer
        # Alert states live in memory for speed and in the database for restarts: every change
        # of state is written before it is used, and start() loads them back.
        self._states: dict[tuple[str, str], CheckState] = {}
        self._alerting: set[str] = set()  # checks whose alert is firing
        self._guard = RegionGuard()
        self._held_back: set[str] = set()  # regions whose failures do not count now
        self._seen: dict[tuple[str, str], float] = {}  # when each (check, region) last reported
        # The newest observation applied per (check, region): an older one arriving later (the
        # backlog of an agent that was cut off while another agent took its checks over) is
        # history, not news.
        self._newest: dict[tuple[str, str], datetime] = {}
        self._started_at = clock.now().timestamp()
        self._live = live_config(config)
        self._checks = self._live.derived(_checks_by_id)
        self._clock = clock
        self._on_change = on_change
        # Rebuilt from the new config by a reload (it holds names, the graph and the policies).
        self.incidents = incidents or IncidentManager(self._live.current)
        self.book = AlertBook(self.incidents, mutes or MaintenanceMutes())
        self.incidents.on_resolved = self.release_incident_overrides
        self._flaps = FlapTracker()
        # One writer at a time: results arrive concurrently, state changes must not interleave.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def exclusive(self, *, publish: bool = True) -> AsyncIterator[AsyncSession]:
        """Hold the engine's lock and one transaction; the snapshot is refreshed after commit.

        Every change from outside the probe path (Alertmanager, user reports, responders,
        maintenance, the incident clock) goes through here so it never interleaves with a
        result being applied.
        """
        async with self._lock, self._transaction() as session:
            yield session
        if publish:
            await self._on_change()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """One guarded transaction: every engine write goes through here."""
        async with self._database.transaction() as session:
            await self._write_guard(session)
            yield session

    async def release_incident_overrides(
        self, session: AsyncSession, incident_id: int, at: datetime
    ) -> None:
        """Statuses a responder showed for an incident end with it; monitoring's view returns."""
        reason = f"incident #{incident_id}"
        for component_id in await overrides_with_reason(session=session, reason=reason):
            await set_override(
                session=session, component_id=component_id, status=None, message=None, reason=None
            )
            # Not forced: the incident is over; a new one opens only on a new failure.
            await self.book.refresh_component(session, component_id, at)

    async def publish(self) -> None:
        """Tell the page a change was committed (for callers that used ``publish=False``)."""
        await self._on_change()

    async def start(self) -> None:
        """Bring the catalog in step with the config; close alerts of checks removed or moved."""
        at = self._clock.now()
        async with self._lock, self._transaction() as session:
            await self._reconcile(session, self._live.current, at)
            self._states = await load_region_states(session=session)
            firing = await firing_check_alerts(session=session)
            self._alerting = {a.check_id for a in firing if a.check_id is not None}
            # A flapping alert settles only after a whole quiet window counted from now.
            for alert in firing:
                if alert.flapping and alert.check_id is not None:
                    self._flaps.seed(alert.check_id, at.timestamp())

    async def reconfigure(self, config: Config, record: Record) -> None:
        """Put ``config`` in force (a reload), as a restart with it would, but keeping state.

        Under the lock, so no result or action runs half under each config: the catalog,
        the regions' states and the alerts of removed or moved checks change in one
        transaction (with ``record``'s timeline event), then the holder is replaced and the
        in-memory states of removed checks are dropped. Incidents are never closed here: an
        incident whose check or component was removed stays open; that check's alert is
        closed ("the check was removed from the config"), and the incident then recovers
        and resolves as it would after the alert ended (or a responder resolves it).
        A database failure raises before anything changed.
        """
        at = self._clock.now()
        async with self._lock:
            async with self._transaction() as session:
                closed = await self._reconcile(session, config, at)
                await record(session, at)
            self._live.replace(config)
            self._adopt(config, closed)
        await self._on_change()

    async def _reconcile(self, session: AsyncSession, config: Config, at: datetime) -> list[str]:
        """Catalog and region rows as ``config`` has them; return the checks whose alert closed."""
        await sync_catalog(session=session, config=config, now=at)
        keys = [(c.id, region) for c in config.checks for region in c.regions]
        await forget_check_regions(session=session, keep=keys)
        await ensure_check_regions(session=session, keys=keys)
        closed = await self._close_stale_alerts(session, config, at)
        # A check whose alert was closed here starts again from ok in every region.
        await reset_check_states(session=session, check_ids=closed)
        return closed

    def _adopt(self, config: Config, closed: list[str]) -> None:
        """In-memory state for ``config``: forget removed checks and regions, closed alerts."""
        keep = {(c.id, region) for c in config.checks for region in c.regions}
        for key in [k for k in self._states if k not in keep or k[0] in closed]:
            del self._states[key]  # the database row was deleted or reset to ok
        for key in [k for k in self._seen if k not in keep]:
            del self._seen[key]
        self._alerting.difference_update(closed)
        self.incidents = IncidentManager(config)
        self.incidents.on_resolved = self.release_incident_overrides
        self.book.incidents = self.incidents

    async def _close_stale_alerts(
        self, session: AsyncSession, config: Config, at: datetime
    ) -> list[str]:
        placement = {c.id: c.component for c in config.checks}
        closed: list[str] = []
        for alert in await firing_check_alerts(session=session):
            where = placement.get(alert.check_id or "")
            if where == alert.component_id:
                continue
            reason = (
                "the check was removed from the config"
                if where is None
                else f"the check now watches {where}"
            )
            await self.book.clear(session, alert, at, reason)
            closed.append(alert.check_id or "")
        return closed

    async def ingest(
        self,
        check: CheckConfig,
        result: ProbeResult,
        region: str = LOCAL_REGION,
        observed_at: datetime | None = None,
    ) -> None:
        """Apply one result from ``region``; the raw result goes to the batched writer.

        A database failure leaves the state where it was, so the next result retries the
        transition; it never stops the engine. The check is judged by its definition in force
        (a run started before a reload finishes under the new one); the result of a check a
        reload removed is dropped.
        """
        attributes = {"exwatch.check": check.id, "exwatch.region": region}
        with _tracer.start_as_current_span("exwatch.engine.ingest", attributes=attributes) as span:
            before = self._states.get((check.id, region), CheckState()).state
            await self._ingest(check, result, region, observed_at)
            after = self._states.get((check.id, region), CheckState()).state
            span.set_attributes(
                {"exwatch.state.before": before.value, "exwatch.state.after": after.value}
            )

    async def _ingest(
        self, check: CheckConfig, result: ProbeResult, region: str, observed_at: datetime | None
    ) -> None:
        current = self._checks().get(check.id)
        if current is None:
            return
        check = current
        at = self._clock.now()
        changed = False
        # A backlog pushed by an agent after an outage is history: stored, but it no longer
        # decides alerts (it would page for minutes-old failures, then resolve them at once).
        late = observed_at is not None and (
            (at - observed_at).total_seconds() > stale_after(check)
            or observed_at < self._newest.get((check.id, region), observed_at)
        )
        if observed_at is not None and not late:
            self._newest[(check.id, region)] = observed_at
        try:
            if not late:
                async with self._lock:
                    changed = await self._advance(check, result, region, at)
        except (SQLAlchemyError, OSError) as error:
            log.error("check %s: state change not saved, retried next run: %s", check.id, error)
        except WriteRefusedError as error:  # deposed: the new leader judges this check now
            log.warning("check %s: result not applied: %s", check.id, error)
            return
        except Exception:  # a bug must cost one result, never the engine
            log.exception("check %s: result not applied: unexpected error", check.id)
        state = self._states.get((check.id, region), CheckState())
        self._writer.add(check, result, observed_at or at, state, region)
        if changed:
            await self._on_change()

    async def _advance(
        self, check: CheckConfig, result: ProbeResult, region: str, at: datetime
    ) -> bool:
        """Move the region's state, then the check's alert by quorum; only changes cost a transaction."""
        key = (check.id, region)
        await self._judge_region(check, result, region, at)
        before = self._states.get(key, CheckState())
        after, _ = advance(before, result.ok, check.failures_to_alert, check.successes_to_recover)
        self._seen[key] = at.timestamp()
        transition = self._quorum_transition(check, key, after, at.timestamp())
        changed = False
        if after.state != before.state or transition is not None:
            changed = await self._apply_in_transaction(
                check, result, key=key, after=after, transition=transition, at=at
            )
        self._states[key] = after
        if transition is Transition.FIRED:
            self._alerting.add(check.id)
        elif transition is Transition.RECOVERED:
            self._alerting.discard(check.id)
        return changed

    def _quorum_transition(
        self, check: CheckConfig, key: tuple[str, str], after: CheckState, now: float
    ) -> Transition | None:
        """Fire when enough regions that count fail (the quorum), recover when fewer do."""
        if check.regions == (key[1],) and key[1] not in self._held_back:
            # The common case, one region reporting right now: skip the bookkeeping (hot path).
            return quorum_transition({key[1]: after}, {key[1]}, 1, check.id in self._alerting)
        states: dict[str, CheckState] = {}
        counting: set[str] = set()
        for region in check.regions:
            silent_for = now - self._seen.get((check.id, region), self._started_at)
            if region in self._held_back or silent_for > FORGET_AFTER * stale_after(check):
                states[region] = CheckState()  # its failures are no evidence, or too old to be
                continue
            states[region] = (
                after
                if (check.id, region) == key
                else self._states.get((check.id, region), CheckState())
            )
            if silent_for <= stale_after(check):
                counting.add(region)
        return quorum_transition(
            states, counting, check.required_failures, check.id in self._alerting
        )

    async def _judge_region(
        self, check: CheckConfig, result: ProbeResult, region: str, at: datetime
    ) -> None:
        """Feed the connectivity guard; record when a region starts or stops being held back."""
        self._guard.observe(region, check.id, check.component, result.ok, at.timestamp())
        held = self._guard.held_back(region, at.timestamp())
        if held == (region in self._held_back):
            return
        kind = "region_held_back" if held else "region_released"
        reason = (
            "nearly every check from this region fails while other regions see the targets up"
            if held
            else "checks from this region pass again"
        )
        log.warning("region %s %s: %s", region, "held back" if held else "released", reason)
        async with self._transaction() as session:
            await append_event(
                session=session, at=at, kind=kind, reason=reason, data={"region": region}
            )
        # Only once the event is stored: a failed write leaves the change to be noticed again.
        (self._held_back.add if held else self._held_back.discard)(region)

    async def _apply_in_transaction(
        self,
        check: CheckConfig,
        result: ProbeResult,
        *,
        key: tuple[str, str],
        after: CheckState,
        transition: Transition | None,
        at: datetime,
    ) -> bool:
        async with self._transaction() as session:
            await save_region_state(
                session=session,
                key=key,
                state=after,
                ok=result.ok,
                error=result.failure_reason,
                at=at,
            )
            if transition is None:
                return False
            await self._apply_transition(session, check, transition, result, at)
            return True

    async def _apply_transition(
        self,
        session: AsyncSession,
        check: CheckConfig,
        transition: Transition,
        result: ProbeResult,
        at: datetime,
    ) -> None:
        """Open or resolve the check's alert; a flapping alert stays open until it settles."""
        fingerprint = f"check:{check.id}"
        flapping = self._flaps.record(check.id, at.timestamp(), check.flapping)
        if transition is Transition.FIRED:
            alert = NewAlert(
                fingerprint, check.component, check.failure_status,
                result.failure_reason or "failed", check_id=check.id,
            )  # fmt: skip
            await self.book.fire(session, alert, at)
            return
        firing = await firing_alert(session=session, fingerprint=fingerprint)
        if firing is None:
            return
        if flapping or firing.flapping:  # held until settle_flapping, across restarts too
            await self._hold_flapping(session, firing, check, at)
            return
        reason = f"{check.successes_to_recover} successful runs in a row"
        await self.book.clear(session, firing, at, reason)

    async def _hold_flapping(
        self, session: AsyncSession, alert: AlertRow, check: CheckConfig, at: datetime
    ) -> None:
        """Keep a flapping alert open (one event, once) instead of resolving and reopening."""
        if alert.flapping:
            return
        await mark_flapping(session=session, alert_id=alert.id)
        await append_event(
            session=session, at=at, kind="alert_flapping", alert_id=alert.id, check_id=check.id,
            component_id=check.component, incident_id=alert.incident_id,
            reason=(
                f"more than {check.flapping.changes} state changes within "
                f"{check.flapping.window:g}s: kept open until it settles"
            ),
        )  # fmt: skip

    async def settle_flapping(self, session: AsyncSession, at: datetime) -> int:
        """Resolve flapping alerts whose check has been quiet and passing for its window."""
        settled = 0
        checks = self._checks()
        for alert in await flapping_alerts(session=session):
            check = checks.get(alert.check_id or "")
            if check is None or check.id in self._alerting:
                continue
            if self._flaps.quiet_for(check.id, at.timestamp()) < check.flapping.window:
                continue
            reason = f"stable for {check.flapping.window:g}s after flapping"
            await self.book.clear(session, alert, at, reason)
            settled += 1
        return settled
