"""Admin API for the outage timeline and incident reports, behind the admin token.

``GET /api/admin/incidents/{id}/timeline``: the incident's events in time order.
``GET /api/admin/incidents/{id}/export?format=json|csv|md``: the incident report as a download.
``GET /api/admin/timeline?since=<event id | ISO time>&limit=``: every event after a cursor, by
id, with the ``next`` cursor to ask with; later consumers follow the timeline with it.
Errors are JSON ``{"error": "..."}``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.admin.auth import AccessGuard
from monitor.admin.fields import convertible
from monitor.admin.responses import GUARDED
from monitor.admin.timeline_out import EVENTS, EXPORT, PAGE_OF_EVENTS, EventPage, IncidentEvents
from monitor.admin.tokens import VIEWER
from monitor.clock import Clock, SystemClock
from monitor.report import UnknownFormatError, as_file, export_format, load_report, render
from monitor.report.as_json import event_document
from monitor.storage.database import Database
from monitor.storage.timeline_reads import (
    MAX_ID,
    EventRow,
    events_page,
    incident_events,
    incident_record,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
UTC_ZONE = ZoneInfo("UTC")
_ID = re.compile(r"[0-9]{1,19}")
_SPACED_OFFSET = re.compile(r" (\d\d(:?\d\d)?)$")  # "+09:00" arrives as " 09:00" when not encoded


class RequestError(Exception):
    """A request exwatch answers with an error, its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def build_timeline_router(
    database: Database,
    access: AccessGuard,
    *,
    time_zone: str = "Asia/Tokyo",
    clock: Clock | None = None,
) -> APIRouter:
    """Return the timeline and export routes; exports show times in ``time_zone``."""
    router = APIRouter(
        prefix="/api/admin", tags=["admin"], dependencies=[Depends(access.require(VIEWER))],
        responses=GUARDED,
    )  # fmt: skip
    zone, now = ZoneInfo(time_zone), (clock or SystemClock()).now

    @router.get(
        "/incidents/{incident_id}/timeline", summary="An incident's events in order",
        response_model=IncidentEvents, responses=EVENTS,
    )  # fmt: skip
    async def incident_timeline(incident_id: str) -> Response:
        """The incident's events (alerts, status changes, actions), oldest first."""
        return await _answered(_incident_timeline(database, incident_id))

    @router.get(
        "/incidents/{incident_id}/export", summary="An incident report: json, csv or md",
        responses=EXPORT,
    )  # fmt: skip
    async def export(incident_id: str, format: str = "md") -> Response:
        """The incident report as a file to download."""
        return await _answered(_export(database, incident_id, format, zone=zone, now=now()))

    @router.get(
        "/timeline", summary="Every timeline event after a cursor, oldest first",
        response_model=EventPage, responses=PAGE_OF_EVENTS,
    )  # fmt: skip
    async def timeline(since: str | None = None, limit: str | None = None) -> Response:
        """Events after ``since`` (an event id or an ISO time), with the ``next`` cursor."""
        return await _answered(_global_timeline(database, since, limit))

    return router


async def _answered(work: Awaitable[Response]) -> Response:
    """Return the response ``work`` makes, or its refusal as ``{"error": ...}``."""
    try:
        return await work
    except RequestError as error:
        return JSONResponse({"error": error.message}, status_code=error.status)


async def _incident_timeline(database: Database, text: str) -> Response:
    incident_id = _incident_id(text)
    async with _reading(database) as session:
        if await incident_record(session=session, incident_id=incident_id) is None:
            raise RequestError(404, f"no incident #{incident_id}")
        events = await incident_events(session=session, incident_id=incident_id)
    return JSONResponse({"incident_id": incident_id, "events": [_event(e) for e in events]})


async def _export(
    database: Database, text: str, name: str, *, zone: ZoneInfo, now: datetime
) -> Response:
    try:
        chosen = export_format(name)
    except UnknownFormatError as error:
        raise RequestError(400, f"format: {error}") from None
    incident_id = _incident_id(text)
    async with _guarded():
        report = await load_report(database, incident_id, now=now)
    if report is None:
        raise RequestError(404, f"no incident #{incident_id}")
    body = as_file(render(report, chosen.name, zone=zone), chosen.name)
    disposition = f'attachment; filename="{chosen.filename(incident_id)}"'
    return Response(
        body, media_type=chosen.media_type, headers={"Content-Disposition": disposition}
    )


async def _global_timeline(
    database: Database, since: str | None, limit_text: str | None
) -> Response:
    limit = _limit(limit_text)
    after_id, after_time = _cursor(since)
    async with _reading(database) as session:
        events = await events_page(
            session=session, after_id=after_id, since=after_time, limit=limit
        )
    next_cursor = str(events[-1].id) if events else (since or "0")
    more = len(events) == limit
    return JSONResponse({"events": [_event(e) for e in events], "next": next_cursor, "more": more})


def _incident_id(text: str) -> int:
    """Return the incident id in a path; anything else names no incident (404)."""
    if _ID.fullmatch(text) and 0 < int(text) <= MAX_ID:
        return int(text)
    raise RequestError(404, f"no incident {text!r}: an incident id is a positive whole number")


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise RequestError(400, f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def _cursor(since: str | None) -> tuple[int | None, datetime | None]:
    """Split ``since`` into an event id cursor or a time cursor."""
    if since is None or since == "":
        return None, None
    if _ID.fullmatch(since):
        return int(since), None
    try:
        at = datetime.fromisoformat(_SPACED_OFFSET.sub(r"+\1", since.strip()))
    except ValueError:
        raise RequestError(
            400, "since: give an event id or an ISO 8601 time such as 2026-11-21T09:00:00Z"
        ) from None
    if at.tzinfo is None:
        raise RequestError(400, "since: the time needs its UTC offset, e.g. 2026-11-21T09:00:00Z")
    try:
        return None, convertible(at)
    except ValueError as error:  # year 1 or 9999 with an offset
        raise RequestError(400, f"since: {error}") from None


def _event(event: EventRow) -> dict[str, Any]:
    document: dict[str, Any] = event_document(event, UTC_ZONE)
    return document


@asynccontextmanager
async def _guarded() -> AsyncIterator[None]:
    """Turn a database that cannot answer into a 503 naming no internals."""
    try:
        yield
    except (OperationalError, InterfaceError, PoolTimeout, OSError):
        raise RequestError(503, "the database is not answering; try again") from None


@asynccontextmanager
async def _reading(database: Database) -> AsyncIterator[AsyncSession]:
    """Yield a session in a read transaction, guarded like ``_guarded``."""
    async with _guarded(), database.transaction() as session:
        yield session
