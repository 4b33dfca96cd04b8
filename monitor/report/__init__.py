"""Incident reports: one incident's facts exported as JSON, CSV (its timeline) or Markdown.

``load_report`` reads the facts; ``render`` writes them in a format; ``as_file`` gives the bytes
of a downloadable file (CSV with a byte order mark, so that spreadsheets read Japanese as UTF-8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.report.as_csv import render_csv
from monitor.report.as_json import render_json
from monitor.report.as_markdown import render_markdown
from monitor.report.facts import IncidentReport, gather_report
from monitor.storage.database import Database

__all__ = [
    "FORMATS",
    "ExportFormat",
    "IncidentReport",
    "UnknownFormatError",
    "as_file",
    "export_format",
    "load_report",
    "render",
]


class UnknownFormatError(ValueError):
    """A report format exwatch does not write."""


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One export format: its name, media type, file name extension and writer."""

    name: str
    media_type: str
    extension: str
    writer: Callable[[IncidentReport, ZoneInfo], str]
    byte_order_mark: bool = False

    def filename(self, incident_id: int) -> str:
        """Return the file name a download of incident ``incident_id`` gets."""
        return f"exwatch-incident-{incident_id}.{self.extension}"


FORMATS = {
    "json": ExportFormat("json", "application/json", "json", lambda r, z: render_json(r, zone=z)),
    "csv": ExportFormat(
        "csv", "text/csv; charset=utf-8", "csv", lambda r, z: render_csv(r, zone=z), True
    ),
    "md": ExportFormat(
        "md", "text/markdown; charset=utf-8", "md", lambda r, z: render_markdown(r, zone=z)
    ),
}


def export_format(name: str) -> ExportFormat:
    """Return the format called ``name``; raise UnknownFormatError naming the choices."""
    try:
        return FORMATS[name]
    except KeyError:
        choices = ", ".join(FORMATS)
        raise UnknownFormatError(f"unknown format {name!r}: use one of {choices}") from None


def render(report: IncidentReport, name: str, *, zone: ZoneInfo) -> str:
    """Return the report written in format ``name``, times in ``zone``."""
    return export_format(name).writer(report, zone)


def as_file(text: str, name: str) -> bytes:
    """Return the bytes of a file holding ``text`` in format ``name`` (UTF-8)."""
    mark = "\ufeff" if export_format(name).byte_order_mark else ""
    return (mark + text).encode()


async def load_report(
    database: Database, incident_id: int, *, now: datetime
) -> IncidentReport | None:
    """Read incident ``incident_id``'s report, or None when there is no such incident."""
    async with database.transaction() as session:
        return await gather_report(session=session, incident_id=incident_id, now=now)
