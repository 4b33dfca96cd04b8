"""The CSV export: one row per timeline event, for spreadsheets.

A cell that a spreadsheet would run as a formula (it starts with ``= + - @``, a tab or a carriage
return) is prefixed with an apostrophe, as is a cell that already starts with one, so that
``unguard`` gives back the exact text (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

from monitor.report.facts import IncidentReport
from monitor.report.wording import iso_time
from monitor.storage.timeline_reads import EventRow

COLUMNS = ("at", "kind", "actor", "component", "check", "alert", "reason", "details")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def render_csv(report: IncidentReport, *, zone: ZoneInfo) -> str:
    """Return the report's timeline as CSV text (a header row, then one row per event)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for event in report.timeline:
        writer.writerow([guard(cell) for cell in _row(report, event, zone)])
    return out.getvalue()


def guard(cell: str) -> str:
    """Return ``cell`` safe from being run as a spreadsheet formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def unguard(cell: str) -> str:
    """Return the text ``guard`` was given."""
    return cell[1:] if cell.startswith("'") else cell


def _row(report: IncidentReport, event: EventRow, zone: ZoneInfo) -> list[str]:
    return [
        iso_time(event.at, zone) or "",
        event.kind,
        event.actor,
        event.component_id or "",
        event.check_id or "",
        "" if event.alert_id is None else str(event.alert_id),
        event.reason or "",
        _details(report, event),
    ]


def _details(report: IncidentReport, event: EventRow) -> str:
    """Return the event's data as JSON; an update's event also carries the update's text, and
    the postmortem's last save the postmortem's text."""
    details: dict[str, Any] = dict(event.data or {})
    update = report.update_of(event) if event.kind == "update_posted" else None
    if update is not None:
        details.update(body_ja=update.body_ja, body_en=update.body_en)
    postmortem = report.postmortem_of(event)
    if postmortem is not None:
        details.update(markdown=postmortem.markdown)
    if not details:
        return ""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
