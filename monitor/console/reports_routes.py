"""The console's reports page: what the public reported, per component, and where it led."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from monitor.console.gate import RefusedError
from monitor.console.parts import ConsoleParts
from monitor.console.reports_view import load_reports


def add_reports_routes(router: APIRouter, parts: ConsoleParts) -> None:
    """GET /console/reports (read only: reports are never changed, only read)."""

    @router.get("/reports")
    async def reports(request: Request) -> Response:
        signed = await parts.gate.signed_in(request)
        desk = parts.reports
        if desk is None:
            raise RefusedError(503, "user reports are not set up in this exwatch")
        view = await load_reports(parts.database, desk.policy, desk.names, parts.clock.now())
        return parts.pages.render("reports.html", signed, view=view)
