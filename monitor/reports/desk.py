"""The report desk: takes problem reports in, and raises or clears the user-reported alert.

``threshold`` reports about one component within ``window`` raise one alert with the
fingerprint ``reports:{component}`` (source ``user_reports``: it opens a minor incident and
never moves the public status). The tick clears it once it has fired for a whole window and the
last window held fewer than ``threshold`` reports; it also raises an alert a crash between
storing a report and raising it left behind.

Reports are stored outside the engine's lock; the lock is taken only to raise or clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alert_book import NewAlert
from monitor.clock import Clock
from monitor.config.policies import UserReports
from monitor.domain import ComponentStatus
from monitor.engine import AlertEngine
from monitor.reload.live import ConfigSource, live_config
from monitor.reports.limits import SlidingWindow, check_key, client_key
from monitor.storage.alerts import AlertRow, firing_alert, firing_alerts
from monitor.storage.database import Database
from monitor.storage.reports import (
    ReportRow,
    client_report_times,
    count_component_reports,
    list_reports,
    record_report,
    report_counts,
)
from probes import format_duration

SOURCE = "user_reports"


def fingerprint(component_id: str) -> str:
    """Return the fingerprint of the user-reported alert of one component."""
    return f"reports:{component_id}"


@dataclass(frozen=True, slots=True)
class Report:
    """One problem report, already validated: a known component, what is wrong, a contact."""

    component_id: str
    body: str
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """The report was stored; ``alert_fired`` says whether it raised the alert."""

    report_id: int
    alert_fired: bool


@dataclass(frozen=True, slots=True)
class Refused:
    """Too many reports: from this client, or from everyone at once."""

    retry_after: float
    reason: str


@dataclass(frozen=True, slots=True)
class Listing:
    """Reports for SREs, and how many arrived per component."""

    since: datetime
    reports: list[ReportRow]
    counts: dict[str, int]
    in_window: dict[str, int]


class ReportDesk:
    """Stores reports within the per-client limits and keeps the user-reported alerts in step."""

    def __init__(
        self,
        database: Database,
        engine: AlertEngine,
        config: ConfigSource,
        clock: Clock,
        *,
        key: bytes,
        flood_limit: int = 600,
        flood_window: float = 60.0,
    ) -> None:
        self._database = database
        self._engine = engine
        self._clock = clock
        self._key = check_key(key)
        self._live = live_config(config)  # a config reload changes the policy and components
        self._names = self._live.derived(lambda c: {x.id: x.names.en for x in c.components})
        # Built once: per_client and per_client_window wait for a restart (monitor.reload.plan).
        self._clients = SlidingWindow(self.policy.per_client, self.policy.per_client_window)
        # Many addresses at once: keep the database and the engine's lock out of a flood.
        self._flood = SlidingWindow(flood_limit, flood_window, max_keys=1)

    @property
    def policy(self) -> UserReports:
        """The user-reports policy in force."""
        return self._live.current.user_reports

    @property
    def names(self) -> dict[str, str]:
        """The English name of each component in force, by id."""
        return self._names()

    async def submit(self, report: Report, address: str) -> Accepted | Refused:
        """Store ``report`` from ``address`` unless a limit is reached; raise the alert if due."""
        if report.component_id not in self.names:
            raise ValueError(f"unknown component {report.component_id!r}")
        now = self._clock.now()
        client = client_key(address, self._key)
        refused = self._refused_in_memory(client, now)
        if refused is not None:
            return refused
        async with self._database.transaction() as session:
            refused = await self._refused_by_history(session, client, now)
            if refused is not None:
                return refused
            report_id = await record_report(
                session=session, component_id=report.component_id, body=report.body,
                contact=report.contact, client=client, at=now,
            )  # fmt: skip
            due = await self._due_count(session, report.component_id, now) is not None
        fired = due and await self._raise_alerts([report.component_id], now)
        return Accepted(report_id, fired)

    async def tick(self, now: datetime) -> None:
        """Clear alerts whose reports stopped; raise any that are due and not firing."""
        async with self._database.transaction() as session:
            counts = await report_counts(session=session, since=now - self._window)
            firing = await firing_alerts(session=session, source=SOURCE)
        raising = {a.component_id for a in firing}
        due = [c for c, n in counts.items() if n >= self.policy.threshold and c not in raising]
        ended = [a for a in firing if self._ended(a, counts.get(a.component_id, 0), now)]
        if due:
            await self._raise_alerts([c for c in due if c in self.names], now)
        if ended:
            await self._clear_alerts(ended, now)

    async def listing(
        self, *, since: datetime | None, component_id: str | None, limit: int = 100
    ) -> Listing:
        """Return the newest reports and the counts per component, for SREs."""
        now = self._clock.now()
        start = since or now - timedelta(days=7)
        async with self._database.transaction() as session:
            rows = await list_reports(
                session=session, since=start, component_id=component_id, limit=limit
            )
            counts = await report_counts(session=session, since=start, component_id=component_id)
            in_window = await report_counts(
                session=session, since=now - self._window, component_id=component_id
            )
        return Listing(start, rows, counts, in_window)

    @property
    def _window(self) -> timedelta:
        return timedelta(seconds=self.policy.window)

    def _refused_in_memory(self, client: str, now: datetime) -> Refused | None:
        wait = self._clients.admit(client, now.timestamp())
        if wait is not None:
            return Refused(wait, self._too_many_from_client())
        wait = self._flood.admit("all", now.timestamp())
        if wait is not None:
            return Refused(wait, "too many reports are arriving right now; please try again soon")
        return None

    async def _refused_by_history(
        self, session: AsyncSession, client: str, now: datetime
    ) -> Refused | None:
        window = timedelta(seconds=self.policy.per_client_window)
        times = await client_report_times(session=session, client=client, since=now - window)
        if len(times) < self.policy.per_client:
            return None
        # Once the report at this position ages out, the client is under its limit again.
        frees_at = times[len(times) - self.policy.per_client] + window
        return Refused((frees_at - now).total_seconds(), self._too_many_from_client())

    def _too_many_from_client(self) -> str:
        span = format_duration(self.policy.per_client_window)
        return f"at most {self.policy.per_client} reports per {span} from one address"

    async def _due_count(
        self, session: AsyncSession, component_id: str, now: datetime
    ) -> int | None:
        """Return the reports in the window if they reached the threshold and no alert fires."""
        count = await count_component_reports(
            session=session, component_id=component_id, since=now - self._window
        )
        if count < self.policy.threshold:
            return None
        if await firing_alert(session=session, fingerprint=fingerprint(component_id)) is not None:
            return None
        return count

    async def _raise_alerts(self, component_ids: list[str], now: datetime) -> bool:
        """Raise the alert of each component still due once under the engine's lock."""
        raised = False
        async with self._engine.exclusive() as session:
            for component_id in component_ids:
                count = await self._due_count(session, component_id, now)
                if count is None:
                    continue  # raised meanwhile by another report or the tick
                await self._engine.book.fire(session, self._alert(component_id, count), now)
                raised = True
        return raised

    def _alert(self, component_id: str, count: int) -> NewAlert:
        span = format_duration(self.policy.window)
        return NewAlert(
            fingerprint=fingerprint(component_id),
            component_id=component_id,
            failure_status=ComponentStatus.DEGRADED_PERFORMANCE,
            summary=f"{count} user reports about {self.names[component_id]} within {span}",
            source=SOURCE,
            data={
                "reports": count,
                "threshold": self.policy.threshold,
                "window_s": self.policy.window,
            },
        )

    def _ended(self, alert: AlertRow, count: int, now: datetime) -> bool:
        started = alert.started_at or now
        return count < self.policy.threshold and now - started >= self._window

    async def _clear_alerts(self, alerts: list[AlertRow], now: datetime) -> None:
        """Clear each alert that is still firing and still quiet, under the engine's lock."""
        async with self._engine.exclusive() as session:
            for alert in alerts:
                current = await firing_alert(session=session, fingerprint=alert.fingerprint)
                if current is None:
                    continue
                count = await count_component_reports(
                    session=session, component_id=alert.component_id, since=now - self._window
                )
                if not self._ended(current, count, now):
                    continue
                await self._engine.book.clear(session, current, now, self._quiet(alert, count))

    def _quiet(self, alert: AlertRow, count: int) -> str:
        name = self.names.get(alert.component_id, alert.component_id)
        span = format_duration(self.policy.window)
        if count == 0:
            return f"no user reports about {name} in the last {span}"
        return (
            f"only {count} user report{'s' if count != 1 else ''} about {name} in the last "
            f"{span}, fewer than the {self.policy.threshold} that raise the alert"
        )
