"""What the console's reports page shows: user problem reports per component, newest first.

Each report says whether it opened an incident (it raised the user-reported alert, which opened
one) or joined one (it arrived while that alert was in an incident); the link is the alert's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config.policies import UserReports
from monitor.reports.desk import SOURCE
from monitor.storage.database import Database
from monitor.storage.report_reads import ReportAlert, report_alerts
from monitor.storage.reports import ReportRow, list_reports, report_counts

LATEST = 10
HOUR, DAY, WEEK = timedelta(hours=1), timedelta(days=1), timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One report and the incident it opened or joined."""

    report: ReportRow
    incident_id: int | None = None
    opened: bool = False


@dataclass(frozen=True, slots=True)
class ComponentReports:
    """One component's report counts, its user-reported alert if it fires, its latest reports."""

    component_id: str
    name: str
    counts: dict[str, int]  # "hour", "day", "week", "window"
    firing: ReportAlert | None
    lines: list[ReportLine]


@dataclass(frozen=True, slots=True)
class ReportsView:
    """The components with reports in the last week, most reported first, and the others."""

    components: list[ComponentReports]
    quiet: list[str]
    policy: UserReports


async def load_reports(
    database: Database, policy: UserReports, names: dict[str, str], now: datetime
) -> ReportsView:
    """Read the counts, the alerts and each reported component's latest reports."""
    spans = {"hour": HOUR, "day": DAY, "week": WEEK, "window": timedelta(seconds=policy.window)}
    async with database.transaction() as session:
        counts = {k: await report_counts(session=session, since=now - v) for k, v in spans.items()}
        episodes = await report_alerts(session=session, source=SOURCE, since=now - WEEK)
        latest = {
            component: await list_reports(
                session=session, since=now - WEEK, component_id=component, limit=LATEST
            )
            for component in counts["week"]
        }
    groups = [
        _group(component, names.get(component, component), counts, episodes, rows)
        for component, rows in latest.items()
    ]
    groups.sort(key=lambda g: (-g.counts["hour"], -g.counts["day"], -g.counts["week"], g.name))
    quiet = [name for component, name in names.items() if component not in latest]
    return ReportsView(groups, quiet, policy)


def _group(
    component: str,
    name: str,
    counts: dict[str, dict[str, int]],
    episodes: list[ReportAlert],
    rows: list[ReportRow],
) -> ComponentReports:
    mine = [e for e in episodes if e.component_id == component]
    firing = next((e for e in mine if e.status == "firing"), None)
    numbers = {span: per.get(component, 0) for span, per in counts.items()}
    return ComponentReports(component, name, numbers, firing, [_line(r, mine) for r in rows])


def _line(report: ReportRow, episodes: list[ReportAlert]) -> ReportLine:
    """The report with the incident of the alert episode it arrived in, if that had one."""
    episode = next((e for e in episodes if e.covers(report.created_at)), None)
    if episode is None or episode.incident_id is None:
        return ReportLine(report)
    raised = episode.started_at == report.created_at
    return ReportLine(report, episode.incident_id, raised and episode.opened_incident)
