"""What the console's maintenance pages show: the windows by state, and the form's draft."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.console.local_time import local_input
from monitor.storage.database import Database
from monitor.storage.maintenance import MaintenanceRow
from monitor.storage.maintenance_reads import next_windows, recent_windows

MAX_LISTED = 50
RECENT = timedelta(days=7)
EDITABLE = ("scheduled", "in_progress")


@dataclass(frozen=True, slots=True)
class MaintenanceList:
    """Windows in progress, the next scheduled ones, and those ended in the last week."""

    in_progress: list[MaintenanceRow]
    upcoming: list[MaintenanceRow]
    upcoming_total: int
    recent: list[MaintenanceRow]


@dataclass(frozen=True, slots=True)
class Draft:
    """The schedule or edit form's values, kept when a refusal shows the form again."""

    name_ja: str = ""
    name_en: str = ""
    body_ja: str = ""
    body_en: str = ""
    start: str = ""
    end: str = ""
    components: tuple[str, ...] = field(default_factory=tuple)


async def load_windows(database: Database, now: datetime) -> MaintenanceList:
    """Read the three lists in one transaction."""
    async with database.transaction() as session:
        running, _ = await next_windows(session=session, status="in_progress", limit=MAX_LISTED)
        upcoming, total = await next_windows(session=session, status="scheduled", limit=MAX_LISTED)
        recent = await recent_windows(session=session, since=now - RECENT, limit=MAX_LISTED)
    return MaintenanceList(running, upcoming, total, recent)


def draft_of(window: MaintenanceRow, zone: ZoneInfo) -> Draft:
    """The edit form of ``window``, its times as ``datetime-local`` values in ``zone``."""
    return Draft(
        window.name_ja, window.name_en, window.body_ja, window.body_en,
        local_input(window.scheduled_start, zone), local_input(window.scheduled_end, zone),
        window.components,
    )  # fmt: skip
