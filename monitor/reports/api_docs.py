"""What the user report routes take and answer, as OpenAPI documents it (``monitor.reports.api``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from monitor.admin.responses import FORM, JSON, Busy, Responses, request_body, responses
from monitor.reports.intake import ReportFields


class ReportIn(ReportFields):
    """A report; a form post may name the page to go back to."""

    next: str | None = Field(default=None, description="form posts: the page to return to")


class Received(BaseModel):
    """The report was stored."""

    received: bool
    component: str


class ReportProblem(BaseModel):
    """Why a report was not taken, and the field at fault (``valid``: the known components)."""

    error: str
    field: str
    valid: list[str] | None = None


class StoredReport(BaseModel):
    """A report as SREs see it; ``client`` is a keyed hash of the sender's address."""

    id: int
    component: str
    body: str
    contact: str | None
    client: str
    created_at: datetime


class ReportWindow(BaseModel):
    """The alerting window: ``threshold`` reports within ``seconds`` raise an alert."""

    seconds: float
    threshold: int
    counts: dict[str, int]


class ReportListing(BaseModel):
    """Reports since ``since`` (newest first), with counts per component."""

    since: datetime
    counts: dict[str, int]
    window: ReportWindow
    reports: list[StoredReport]


POST_BODY = request_body(ReportIn, JSON, FORM)
POST_ANSWERS: Responses = {
    303: {"description": "A form post: back to the page it came from"},
    **responses(ReportProblem, 400, 413, 415, 422, page=True),
    **responses(Busy, 429, page=True),
}
