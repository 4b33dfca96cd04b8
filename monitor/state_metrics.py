"""Gauges of current state (firing alerts, open incidents, component status), read at scrape time.

The database is the truth the engine keeps, so the gauges are right after a restart, and
changes made outside the engine (overrides, maintenance) show too. ``refresh`` reads it before
each scrape; ``collect`` serves the last snapshot (the previous one if a read failed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.storage.database import Database
from monitor.storage.engine_inbox import waiting_count
from monitor.storage.tables import alerts, components, incidents

log = logging.getLogger(__name__)
NO_INCIDENT = "none"
NO_GROUP = "none"


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """What the gauges show: counts by labels, and each active component's status."""

    alerts_firing: dict[tuple[str, str], int] = field(default_factory=dict)
    incidents_open: dict[str, int] = field(default_factory=dict)
    components: dict[str, ComponentStatus] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # component → its group ("none")
    inbox_waiting: int = 0  # agent results an api replica took, not yet applied by the leader


class StateMetrics(Collector):
    """A collector of the state gauges; registered on ``registry``."""

    def __init__(self, database: Database, registry: CollectorRegistry) -> None:
        self._database = database
        self.snapshot = StateSnapshot()
        registry.register(self)

    async def refresh(self) -> None:
        """Read the current state; on a database error keep serving the previous one."""
        try:
            async with self._database.transaction() as session:
                self.snapshot = await load_snapshot(session)
        except (SQLAlchemyError, OSError) as error:
            log.error("state metrics not refreshed, serving the previous values: %s", error)

    def describe(self) -> Iterable[Metric]:
        """The families, without samples (names for the registry's duplicate check)."""
        return list(_families(StateSnapshot()))

    def collect(self) -> Iterator[Metric]:
        """The families from the last snapshot."""
        return _families(self.snapshot)


def _families(snapshot: StateSnapshot) -> Iterator[Metric]:
    firing = GaugeMetricFamily(
        "exwatch_alerts_firing",
        "Firing alerts by component and the severity of their incident (none: in no incident)",
        labels=("component", "severity"),
    )
    for (component, severity), count in sorted(snapshot.alerts_firing.items()):
        firing.add_metric((component, severity), count)
    yield firing
    open_ = GaugeMetricFamily("exwatch_incidents_open", "Open incidents", labels=("severity",))
    for severity in Severity:  # every severity, 0 included: a sum over time has no gaps
        open_.add_metric((str(severity),), snapshot.incidents_open.get(str(severity), 0))
    yield open_
    yield from _component_families(snapshot.components)
    group = GaugeMetricFamily(
        "exwatch_component_group",
        "1 for each component's group (none: in no group); join on component for per-group sums",
        labels=("component", "group"),
    )
    for component, name in sorted(snapshot.groups.items()):
        group.add_metric((component, name), 1)
    yield group
    yield GaugeMetricFamily(
        "exwatch_engine_inbox_waiting",
        "Agent results taken by api replicas and not yet applied by the engine leader",
        value=snapshot.inbox_waiting,
    )


def _component_families(statuses: dict[str, ComponentStatus]) -> Iterator[Metric]:
    status = GaugeMetricFamily(
        "exwatch_component_status",
        "Component status: 0 operational, 1 under_maintenance, 2 degraded_performance, "
        "3 partial_outage, 4 major_outage",
        labels=("component",),
    )
    state = GaugeMetricFamily(
        "exwatch_component_state",
        "1 for the component's current status, 0 for the others",
        labels=("component", "state"),
    )
    for component, current in sorted(statuses.items()):
        status.add_metric((component,), current.rank)
        for each in ComponentStatus:
            state.add_metric((component, str(each)), 1 if each is current else 0)
    yield status
    yield state


async def load_snapshot(session: AsyncSession) -> StateSnapshot:
    """Read firing alerts, open incidents and component statuses in one transaction."""
    severity = func.coalesce(incidents.c.severity, NO_INCIDENT)
    firing = await session.execute(
        select(alerts.c.component_id, severity, func.count())
        .select_from(alerts.outerjoin(incidents, incidents.c.id == alerts.c.incident_id))
        .where(alerts.c.status == "firing")
        .group_by(alerts.c.component_id, severity)
    )
    open_ = await session.execute(
        select(incidents.c.severity, func.count())
        .where(incidents.c.status != str(IncidentStatus.RESOLVED))
        .group_by(incidents.c.severity)
    )
    statuses = (
        await session.execute(
            select(components.c.id, components.c.status, components.c.group_id).where(
                components.c.active.is_(True)
            )
        )
    ).all()
    return StateSnapshot(
        alerts_firing={(c, s): n for c, s, n in firing.all()},
        incidents_open={s: n for s, n in open_.all()},
        components={c: ComponentStatus(s) for c, s, _ in statuses},
        groups={c: g or NO_GROUP for c, _, g in statuses},
        inbox_waiting=await waiting_count(session=session),
    )
