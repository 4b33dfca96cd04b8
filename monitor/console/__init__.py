"""The SRE console (``/console``): server-rendered pages to acknowledge, update and resolve.

Signed in with an API token (``monitor.console.sessions``), every form carries a CSRF token,
every write goes through the same services as the admin API and lands in the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from monitor.admin.auth import AccessGuard
from monitor.console.access_routes import add_access_routes
from monitor.console.deliveries_routes import add_deliveries_routes
from monitor.console.gate import PREFIX, RefusedError
from monitor.console.incident_routes import add_incident_routes
from monitor.console.maintenance_routes import add_maintenance_routes
from monitor.console.now_routes import add_now_routes
from monitor.console.parts import ConsoleParts
from monitor.console.postmortem_routes import add_postmortem_routes
from monitor.console.reports_routes import add_reports_routes

__all__ = ["ConsoleParts", "install_console"]


def install_console(app: FastAPI, parts: ConsoleParts, guard: AccessGuard) -> None:
    """Add the console's routes, its static files and its error page to ``app``."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    add_access_routes(router, parts, guard)
    add_now_routes(router, parts)
    add_incident_routes(router, parts)
    add_postmortem_routes(router, parts)
    add_maintenance_routes(router, parts)
    add_deliveries_routes(router, parts)
    add_reports_routes(router, parts)
    app.include_router(router)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(packages=[("monitor.console", "static")]),
        name="console-static",
    )

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, RefusedError)
        signed = await parts.gate.sessions.resume(request.cookies.get("exwatch_console", ""))
        return parts.pages.render(
            "refused.html", signed, status=error.status, message=error.message,
            back=PREFIX if signed else None,
        )  # fmt: skip

    app.add_exception_handler(RefusedError, refused)
