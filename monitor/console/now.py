"""The console's Now page: open incidents, worst first, and every alert firing, region by region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.domain import Severity
from monitor.storage.alert_reads import AlertRead, RegionRead, list_alerts, region_reads
from monitor.storage.database import Database
from monitor.storage.incident_reads import list_incidents

MAX_ALERTS = 200


@dataclass(frozen=True, slots=True)
class FiringAlert:
    """A firing alert and the state of each region of its check."""

    alert: AlertRead
    regions: list[RegionRead]


@dataclass(frozen=True, slots=True)
class NowView:
    """What an SRE needs first: open incidents by severity, then the alerts behind them."""

    incidents: list[dict[str, Any]]
    alerts: list[FiringAlert]

    @property
    def unacknowledged(self) -> int:
        """How many open incidents nobody has acknowledged."""
        return sum(1 for i in self.incidents if i["acknowledged_at"] is None)


async def now_view(database: Database) -> NowView:
    """Read the open incidents and firing alerts (three queries, one transaction)."""
    async with database.transaction() as session:
        incidents = await list_incidents(session=session, state="open", limit=500)
        firing = await list_alerts(session=session, status="firing", limit=MAX_ALERTS)
        checks = {a.check_id for a in firing if a.check_id is not None}
        regions = await region_reads(session=session, check_ids=checks)
    incidents.sort(key=_urgency)
    alerts = [FiringAlert(a, regions.get(a.check_id or "", [])) for a in firing]
    return NowView(incidents, alerts)


def _urgency(incident: dict[str, Any]) -> tuple[int, bool, float]:
    """Critical first; within a severity the unacknowledged, then the oldest."""
    try:
        rank = Severity(incident["severity"]).rank
    except ValueError:
        rank = -1
    return (-rank, incident["acknowledged_at"] is not None, incident["detected_at"].timestamp())
