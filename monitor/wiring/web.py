"""The FastAPI application of one process: what it serves depends on its role."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from jinja2 import PackageLoader
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.ack_api import build_ack_router
from monitor.admin.access_api import build_access_router
from monitor.admin.alerts_api import build_alerts_router
from monitor.admin.audit import AuditMiddleware
from monitor.admin.auth import AccessGuard
from monitor.admin.config_api import build_config_router
from monitor.admin.deliveries_api import build_deliveries_router
from monitor.admin.incidents_api import build_incidents_router
from monitor.admin.postmortems_api import build_postmortems_router
from monitor.admin.timeline_api import build_timeline_router
from monitor.admin.token_desk import TokenDesk
from monitor.admin.validation import install_validation_handler
from monitor.agent_api import Ingest, Stored, build_agent_router, database_roster
from monitor.alertmanager import build_alertmanager_router
from monitor.cluster.inbox import inbox_ingest
from monitor.config import CheckConfig
from monitor.console import ConsoleParts, install_console
from monitor.console.gate import Gate
from monitor.console.pages import Pages
from monitor.console.preview import XPreview
from monitor.console.sessions import ConsoleSessions
from monitor.ingest import build_ingest_router
from monitor.maintenance import build_maintenance_router
from monitor.notices import Notice
from monitor.postmortems.service import PostmortemService
from monitor.reports import build_reports_router
from monitor.security.client_address import ClientAddress
from monitor.security.middleware import install_security_headers
from monitor.storage.results import stored_result_keys
from monitor.subscriptions import SubscribePages, build_subscriptions_router
from monitor.subscriptions.data_requests import DataRequests
from monitor.subscriptions.data_requests_api import build_data_requests_router
from monitor.tracing import instrument
from monitor.wiring.lifespans import lifespan
from monitor.wiring.roles import Role
from monitor.wiring.services import Services
from notifiers.x.compose import compose as x_compose
from notifiers.x.length import MAX_WEIGHTED_LENGTH, weighted_length
from probes import ProbeResult
from statuspage.i18n import choose_language
from statuspage.messages_subscribe import MESSAGES
from statuspage.routes import mount


def create_app(
    services: Services,
    *,
    run_checks: bool = True,
    access: AccessGuard | None = None,
    lease: float = 10.0,
) -> FastAPI:
    """Return the ASGI app; its lifespan starts and stops the services.

    ``access`` authenticates the admin API; by default EXWATCH_ADMIN_TOKEN and stored tokens.
    An engine process (``--role engine``) serves only /healthz and /metrics; ``lease`` is its
    leadership lease in seconds.
    """
    app = FastAPI(
        title=f"exwatch · {services.config.site.name}",
        lifespan=lifespan(services, run_checks=run_checks, lease=lease),
        docs_url=None if services.role is Role.ENGINE else "/api/docs",
    )
    app.state.services = services
    instrument(app)  # HTTP request spans, only when tracing is on
    app.include_router(_operations_router(services))
    if services.role is not Role.ENGINE:
        _include_public(app, services, access)
    return app


def _include_public(app: FastAPI, services: Services, access: AccessGuard | None) -> None:
    """The page, the ingest endpoints and the admin API (roles ``all`` and ``api``)."""
    install_validation_handler(app)
    # Inside the snapshot middleware: the public page never passes through the audit.
    app.add_middleware(
        AuditMiddleware, database=services.database, clock=services.clock,
        secrets=(services.admin_token or "",),
        client_address=ClientAddress(services.config.server.trusted_proxies).of_scope,
    )  # fmt: skip
    # Inside the snapshot middleware too: the snapshot's documents carry their own headers.
    install_security_headers(app, services.config.site.url, services.config.site.logo_url)
    # The public documents: any path of the snapshot, answered before routing (fastest).
    mount(app, services.store)
    app.include_router(build_ingest_router(services.heartbeats))
    app.include_router(
        build_agent_router(
            services.live,
            services.agent_token,
            _agent_ingest(services),
            _agent_stored(services),
            roster=database_roster(
                services.database, services.clock, services.config.server.agent_liveness
            ),
        )
    )
    _include_admin(app, services, access)


def _include_admin(app: FastAPI, services: Services, access: AccessGuard | None) -> None:
    """The admin API under /api/admin: bearer tokens with roles (``monitor.admin.auth``)."""
    database, clock = services.database, services.clock
    clients = ClientAddress(services.config.server.trusted_proxies)
    guard = access or AccessGuard(
        database, clock, admin_token=services.admin_token, client_address=clients
    )
    app.state.access = guard
    app.include_router(build_incidents_router(services.responder, database, clock, guard))
    postmortems = PostmortemService(database, clock, on_change=services.changed)
    app.include_router(build_postmortems_router(postmortems, guard))
    app.include_router(build_alerts_router(database, guard))
    app.include_router(build_reports_router(services.reports, access=guard, client_address=clients))
    app.include_router(build_alertmanager_router(services, guard))
    pages = SubscribePages(PackageLoader("statuspage", "templates"), MESSAGES, choose_language)
    app.include_router(
        build_subscriptions_router(
            services.subscriptions, pages, access=guard, client_address=clients
        )
    )
    app.include_router(build_maintenance_router(services.maintenance, guard))
    app.include_router(build_deliveries_router(database, clock, guard))
    app.include_router(build_access_router(TokenDesk(database, clock), guard))
    app.include_router(build_config_router(services.reloader, guard))
    app.include_router(build_data_requests_router(DataRequests(database, clock), guard))
    app.include_router(build_ack_router(services.acks, services.responder, clock))
    install_console(app, _console_parts(services, guard, postmortems), guard)
    app.include_router(
        build_timeline_router(
            database, guard, time_zone=services.config.site.time_zone, clock=clock
        )
    )


def _console_parts(
    services: Services, guard: AccessGuard, postmortems: PostmortemService
) -> ConsoleParts:
    """The console's services; its X preview uses the X channel's own composer."""
    database, clock = services.database, services.clock
    return ConsoleParts(
        database=database, clock=clock, live=services.live, responder=services.responder,
        gate=Gate(ConsoleSessions(database, clock, guard)), pages=Pages(clock, services.live),
        previewer=_x_preview, maintenance=services.maintenance, reports=services.reports,
        postmortems=postmortems,
    )  # fmt: skip


def _x_preview(notice: Notice, language: str) -> XPreview:
    """The post an X account in ``language`` would send, and the weight of the uncut text."""
    whole = x_compose(notice, language, limit=1_000_000)
    post = x_compose(notice, language)
    return XPreview(language, post, weighted_length(whole), MAX_WEIGHTED_LENGTH)


def _operations_router(services: Services) -> APIRouter:
    """``/metrics`` for Prometheus and ``/healthz`` for load balancers."""
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics() -> Response:
        await services.state_metrics.refresh()
        # Megabytes with a thousand checks (a histogram per check and phase): rendered off the
        # event loop, so a scrape does not make the checks late.
        body = await asyncio.to_thread(generate_latest, services.metrics_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        if services.role is Role.ENGINE:  # a standby is healthy: it is ready to take over
            epoch = services.fence.epoch if services.fence is not None else None
            return JSONResponse(
                {"ok": True, "role": "engine", "leader": epoch is not None, "epoch": epoch}
            )
        ready = services.store.ready
        return JSONResponse({"ok": ready}, status_code=200 if ready else 503)

    return router


def _agent_stored(services: Services) -> Stored:
    async def stored(region: str, keys: list[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
        async with services.database.transaction() as session:
            return await stored_result_keys(session=session, region=region, keys=keys)

    return stored


def _agent_ingest(services: Services) -> Ingest:
    """Apply an agent's result here (``all``), or leave it for the engine leader (``api``)."""
    if services.role is Role.API:
        return inbox_ingest(services.database, services.clock)

    async def ingest(
        check: CheckConfig, result: ProbeResult, region: str, observed_at: datetime
    ) -> None:
        services.metrics.observe(check, result, region)
        await services.engine.ingest(check, result, region=region, observed_at=observed_at)

    return ingest
