"""HTTP routes for user reports: ``POST /api/reports`` (public) and the admin listing.

A JSON post is answered with JSON (201, or a 4xx naming the field); a form post from the
status page with a 303 back to the page, or a short page saying what to fix. Reports are
never shown publicly: only ``GET /api/admin/reports`` (role viewer) lists them.
"""

from __future__ import annotations

import html
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from monitor.admin.auth import AccessGuard
from monitor.admin.fields import StorableTime
from monitor.admin.responses import GUARDED, invalid
from monitor.admin.tokens import VIEWER
from monitor.reports.api_docs import POST_ANSWERS, POST_BODY, Received, ReportListing
from monitor.reports.desk import Listing, Refused, ReportDesk
from monitor.reports.intake import Problem, component_problem, is_form, read_submission
from monitor.security.client_address import DIRECT, ClientAddress


def build_reports_router(
    desk: ReportDesk, *, access: AccessGuard, client_address: ClientAddress = DIRECT
) -> APIRouter:
    """Return the public report route and the admin listing of reports (limited per
    ``client_address``)."""
    router = APIRouter()

    @router.post(
        "/api/reports",
        status_code=201,
        summary="Report a problem with a component (JSON or an HTML form post)",
        response_model=Received,
        responses=POST_ANSWERS,
        openapi_extra=POST_BODY,
    )
    async def post_report(request: Request) -> Response:
        form = is_form(request)
        submission = await read_submission(request, desk.names)
        if isinstance(submission, Problem):
            return _problem(submission, form=form)
        address = client_address(request)
        outcome = await desk.submit(submission.report, address)
        if isinstance(outcome, Refused):
            return _refused(outcome, form=form)
        if form:
            return RedirectResponse(_with_flag(submission.next_path), status_code=303)
        return JSONResponse({"received": True, "component": submission.report.component_id}, 201)

    @router.get(
        "/api/admin/reports",
        summary="User reports and counts per component (admin)",
        dependencies=[Depends(access.require(VIEWER))],
        response_model=ReportListing,
        responses=GUARDED,
    )
    async def list_reports(
        component: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[StorableTime | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Response:
        if component is not None and (problem := component_problem(component, desk.names)):
            raise invalid("query", "component", problem.message)
        listing = await desk.listing(since=since, component_id=component, limit=limit)
        return JSONResponse(_listing_json(desk, listing))

    return router


def _listing_json(desk: ReportDesk, listing: Listing) -> dict[str, Any]:
    policy = desk.policy
    return {
        "since": listing.since.isoformat(),
        "counts": listing.counts,
        "window": {"seconds": policy.window, "threshold": policy.threshold,
                   "counts": listing.in_window},
        "reports": [
            {"id": r.id, "component": r.component_id, "body": r.body, "contact": r.contact,
             "client": r.client, "created_at": r.created_at.isoformat()}
            for r in listing.reports
        ],
    }  # fmt: skip


def _with_flag(path: str) -> str:
    # The page is a pre-rendered snapshot: its thank-you notice shows through CSS :target.
    return f"{path}{'&' if '?' in path else '?'}reported=1#reported"


def _problem(problem: Problem, *, form: bool) -> Response:
    if form:
        return _page(problem.status, problem.message)
    body = {"error": problem.message, "field": problem.field, **problem.extra}
    return JSONResponse(body, status_code=problem.status)


def _refused(refused: Refused, *, form: bool) -> Response:
    seconds = max(1, math.ceil(refused.retry_after))
    headers = {"Retry-After": str(seconds)}
    message = f"{refused.reason}; try again in {seconds} s"
    if form:
        return _page(429, message, headers=headers)
    return JSONResponse({"error": message, "retry_after": seconds}, 429, headers=headers)


def _page(status: int, message: str, *, headers: dict[str, str] | None = None) -> HTMLResponse:
    text = html.escape(message)
    page = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Report not sent</title>'
        f'<p>Your report was not sent: {text}</p><p><a href="/">Back to the status page</a></p>'
    )
    return HTMLResponse(page, status_code=status, headers=headers)
