"""The timeline API's answers as OpenAPI documents them: events, pages of events, and reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from monitor.admin.responses import UNAVAILABLE, ErrorOut, Responses, responses


class EventOut(BaseModel):
    """One timeline event; times are ISO 8601 in UTC."""

    id: int
    at: str = Field(description="ISO 8601 time")
    kind: str
    actor: str
    incident_id: int | None
    component_id: str | None
    check_id: str | None
    alert_id: int | None
    reason: str | None
    data: dict[str, Any] | None
    maintenance_id: int | None


class IncidentEvents(BaseModel):
    """An incident's events, oldest first."""

    incident_id: int
    events: list[EventOut]


class EventPage(BaseModel):
    """Events after the cursor; ask again with ``next`` while ``more`` is true."""

    events: list[EventOut]
    next: str
    more: bool


_FILE = {"schema": {"type": "string"}}
EXPORT: Responses = {
    200: {
        "description": "The report as a file to download",
        "content": {"text/markdown": _FILE, "text/csv": _FILE, "application/json": {}},
    },
    **responses(ErrorOut, 400, 404),
    **UNAVAILABLE,
}
EVENTS: Responses = {**responses(ErrorOut, 404), **UNAVAILABLE}
PAGE_OF_EVENTS: Responses = {**responses(ErrorOut, 400), **UNAVAILABLE}
