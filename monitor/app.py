"""Wiring: builds the FastAPI application and the services behind it from a config and a database."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from jinja2 import PackageLoader
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.ack_api import build_ack_router
from monitor.ack_links import AckLinks
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
from monitor.agent_api import Ingest, Stored, build_agent_router
from monitor.alertmanager import build_alertmanager_router
from monitor.clock import Clock, SystemClock
from monitor.config import CheckConfig, Config, load_config
from monitor.console import ConsoleParts, install_console
from monitor.console.gate import Gate
from monitor.console.pages import Pages
from monitor.console.preview import XPreview
from monitor.console.sessions import ConsoleSessions
from monitor.engine import AlertEngine
from monitor.heartbeats import HeartbeatLedger
from monitor.incident_clock import IncidentClock
from monitor.incident_metrics import IncidentMetrics
from monitor.ingest import build_ingest_router
from monitor.loop_lag import LoopLagMonitor
from monitor.maintenance import MaintenanceService, build_maintenance_router
from monitor.metrics import ProbeMetrics
from monitor.notices import Notice
from monitor.outbox.planner import OutboxPlanner
from monitor.postmortems.service import PostmortemService
from monitor.publisher import SnapshotPublisher
from monitor.reload.live import LiveConfig
from monitor.reload.reloader import ConfigReloader, local_checks
from monitor.reports import ReportDesk, build_reports_router
from monitor.responder import Responder
from monitor.result_writer import ResultWriter
from monitor.retention import RetentionJob
from monitor.scheduler import CheckScheduler
from monitor.security.client_address import ClientAddress
from monitor.security.middleware import install_security_headers
from monitor.state_metrics import StateMetrics
from monitor.storage.database import Database, EventPlanner
from monitor.storage.query_metrics import QueryMetrics
from monitor.storage.results import stored_result_keys
from monitor.subscriptions import SubscribePages, SubscriptionService, build_subscriptions_router
from monitor.subscriptions.data_requests import DataRequests
from monitor.subscriptions.data_requests_api import build_data_requests_router
from monitor.ticker import Ticker
from monitor.tracing import instrument
from monitor.views import Branding, SiteView
from notifiers import REGISTRY as CHANNELS
from notifiers.channel import Channel
from notifiers.service import NotificationService
from notifiers.x.compose import compose as x_compose
from notifiers.x.length import MAX_WEIGHTED_LENGTH, weighted_length
from probes import REGISTRY, HeartbeatProbe, ProbeResult, Registry
from statuspage import SnapshotStore
from statuspage.i18n import choose_language
from statuspage.messages_subscribe import MESSAGES
from statuspage.page_requests import PageRequests
from statuspage.routes import mount

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """The running parts of one exwatch process, reachable from tests through ``app.state``."""

    live: LiveConfig
    database: Database
    engine: AlertEngine
    scheduler: CheckScheduler
    publisher: SnapshotPublisher
    store: SnapshotStore
    metrics_registry: CollectorRegistry
    loop_lag: LoopLagMonitor
    writer: ResultWriter
    retention: RetentionJob
    heartbeats: HeartbeatLedger
    metrics: ProbeMetrics
    ticker: Ticker
    clock: Clock
    responder: Responder
    reports: ReportDesk
    maintenance: MaintenanceService
    subscriptions: SubscriptionService
    notifications: NotificationService
    acks: AckLinks
    reloader: ConfigReloader
    state_metrics: StateMetrics
    agent_token: str | None = None
    admin_token: str | None = None

    @property
    def config(self) -> Config:
        """The config in force (a reload replaces it; ``live`` is its holder)."""
        return self.live.current


def build_services(
    config: Config,
    database: Database,
    clock: Clock | None = None,
    *,
    registry: Registry = REGISTRY,
    metrics_registry: CollectorRegistry | None = None,
    agent_token: str | None = None,
    admin_token: str | None = None,
    report_key: bytes | None = None,
    subscription_key: bytes | None = None,
    channels: Mapping[str, Channel] | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Services:
    """Create the engine, scheduler, snapshot publisher and metrics for ``config``.

    ``config_path`` is the file ``config`` came from: a config reload reads it again.
    """
    clock = clock or SystemClock()
    live = LiveConfig(config)
    metrics_registry = metrics_registry or CollectorRegistry()
    metrics = ProbeMetrics(metrics_registry)
    incident_metrics = IncidentMetrics(metrics_registry)
    _platform_metrics(metrics_registry, database)
    store = SnapshotStore(requests=PageRequests.on(metrics_registry))
    publisher = SnapshotPublisher(database, live.derived(site_view), clock, store.publish)
    writer = ResultWriter(database, clock)
    engine = AlertEngine(database, live, clock, writer, on_change=publisher.changed)

    async def sink(check: CheckConfig, result: ProbeResult) -> None:
        metrics.observe(check, result)
        await engine.ingest(check, result)

    heartbeats = HeartbeatLedger(database, live, clock)
    scheduler = _scheduler(config, registry, sink, clock, metrics=metrics, heartbeats=heartbeats)
    ticker = Ticker(clock)
    ticker.register("incidents", IncidentClock(engine, live).tick)
    reports = ReportDesk(
        database, engine, live, clock,
        key=report_key or _derived_key(admin_token, b"exwatch user reports", size=32),
    )  # fmt: skip
    maintenance = MaintenanceService(engine=engine, database=database, config=live, clock=clock)
    subscriptions = SubscriptionService(
        database, live, clock,
        key=subscription_key or _derived_key(admin_token, b"exwatch subscriptions", size=48),
    )  # fmt: skip
    acks = AckLinks(_derived_key(admin_token, b"exwatch ack links", size=32), config.site.url)
    notifications = _notifications(
        live, database, clock, subscriptions, acks,
        registry=metrics_registry, channels=channels, env=env, also=incident_metrics.plan,
    )  # fmt: skip
    for name, job in (
        ("user_reports", reports.tick),
        ("maintenance", maintenance.tick),
        ("subscriptions", subscriptions.tick),
    ):
        ticker.register(name, job)
    reloader = ConfigReloader(
        config_path,
        live,
        engine=engine,
        scheduler=scheduler,
        refresh=publisher.publish_now,
        load=lambda path: load_config(path, registry=registry),
    )
    return Services(
        live=live, reloader=reloader, database=database, engine=engine, scheduler=scheduler,
        publisher=publisher, store=store, metrics_registry=metrics_registry,
        loop_lag=LoopLagMonitor(metrics.loop_lag.observe), writer=writer,
        retention=RetentionJob(database, config.retention, clock), heartbeats=heartbeats,
        metrics=metrics, ticker=ticker, clock=clock, responder=Responder(engine, live),
        reports=reports, maintenance=maintenance, subscriptions=subscriptions,
        notifications=notifications, acks=acks, agent_token=agent_token, admin_token=admin_token,
        state_metrics=StateMetrics(database, metrics_registry),
    )  # fmt: skip


def _platform_metrics(registry: CollectorRegistry, database: Database) -> None:
    """DB query latency and the process's own ``process_*``/``python_info`` on ``registry``."""
    QueryMetrics(registry).attach(database.engine)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)


def _notifications(
    live: LiveConfig,
    database: Database,
    clock: Clock,
    subscriptions: SubscriptionService,
    acks: AckLinks,
    *,
    registry: CollectorRegistry,
    channels: Mapping[str, Channel] | None,
    env: Mapping[str, str] | None,
    also: EventPlanner,
) -> NotificationService:
    """The outbox: its planner (then ``also``) on every transaction, and the dispatcher."""
    outbox = OutboxPlanner(live).plan

    async def plan(session: AsyncSession, events: Sequence[int]) -> None:
        await outbox(session, events)
        await also(session, events)

    database.plan_events_with(plan)
    if channels is None:
        channels = CHANNELS.build(live.current, os.environ if env is None else env)
    return NotificationService(
        database=database, config=live, clock=clock, subscriptions=subscriptions, acks=acks,
        channels=channels, registry=registry,
    )  # fmt: skip


def _scheduler(
    config: Config,
    registry: Registry,
    sink: Callable[[CheckConfig, ProbeResult], Awaitable[None]],
    clock: Clock,
    *,
    metrics: ProbeMetrics,
    heartbeats: HeartbeatLedger,
) -> CheckScheduler:
    """The scheduler of the checks exwatch runs itself (agents run the other regions)."""
    return CheckScheduler(
        local_checks(config),
        registry,
        sink,
        clock,
        on_lag=metrics.scheduler_lag.observe,
        probes={"heartbeat": HeartbeatProbe(heartbeats.last_push, lambda: clock.now().timestamp())},
    )


def create_app(
    services: Services, *, run_checks: bool = True, access: AccessGuard | None = None
) -> FastAPI:
    """Return the ASGI app; its lifespan starts and stops the services.

    ``access`` authenticates the admin API; by default EXWATCH_ADMIN_TOKEN and stored tokens.
    """

    app = FastAPI(
        title=f"exwatch · {services.config.site.name}",
        lifespan=_lifespan(services, run_checks=run_checks),
        docs_url="/api/docs",
    )
    app.state.services = services
    instrument(app)  # HTTP request spans, only when tracing is on
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
            services.live, services.agent_token, _agent_ingest(services), _agent_stored(services)
        )
    )
    app.include_router(_operations_router(services))
    _include_admin(app, services, access)
    return app


def _lifespan(
    services: Services, *, run_checks: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the background parts (and the checks, unless told not to); stop them in order."""
    background = (
        services.publisher, services.loop_lag, services.writer, services.retention,
        services.ticker, services.notifications,
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.engine.start()
        await services.heartbeats.load()
        await services.publisher.publish_now()
        for part in background:
            part.start()
        if run_checks:
            services.scheduler.start()
        try:
            yield
        finally:
            # The scheduler stops before the writer it feeds; the page's publisher last.
            await _stop_all(
                services.notifications, services.ticker, services.scheduler, services.retention,
                services.writer, services.loop_lag, services.publisher,
            )  # fmt: skip

    return lifespan


def _include_admin(app: FastAPI, services: Services, access: AccessGuard | None) -> None:
    """The admin API under /api/admin: bearer tokens with roles (``monitor.admin.auth``)."""
    database, clock = services.database, services.clock
    clients = ClientAddress(services.config.server.trusted_proxies)
    guard = access or AccessGuard(
        database, clock, admin_token=services.admin_token, client_address=clients
    )
    app.state.access = guard
    app.include_router(build_incidents_router(services.responder, database, clock, guard))
    postmortems = PostmortemService(database, clock, on_change=services.publisher.changed)
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


def _derived_key(admin_token: str | None, purpose: bytes, *, size: int) -> bytes:
    """A key for ``purpose`` when none is configured: stable across restarts if there is an
    admin token (rotating the token then rotates it), random otherwise.

    Without a stable key, per-client report limits restart with the process and subscription
    links already sent stop working; `exwatch run` says so at start.
    """
    if admin_token:
        first = hmac.new(admin_token.encode(), purpose, hashlib.sha512).digest()
        return first[:size]
    return secrets.token_bytes(size)


def _operations_router(services: Services) -> APIRouter:
    """``/metrics`` for Prometheus and ``/healthz`` for load balancers."""
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics() -> Response:
        await services.state_metrics.refresh()
        return Response(generate_latest(services.metrics_registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        ready = services.store.ready
        return JSONResponse({"ok": ready}, status_code=200 if ready else 503)

    return router


async def _stop_all(*parts: Any) -> None:
    """Stop each part in order; one failing to stop must not keep the writer from its last flush."""
    for part in parts:
        try:
            await part.stop()
        except Exception:
            log.exception("%s did not stop cleanly", type(part).__name__)


def _agent_stored(services: Services) -> Stored:
    async def stored(region: str, keys: list[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
        async with services.database.transaction() as session:
            return await stored_result_keys(session=session, region=region, keys=keys)

    return stored


def _agent_ingest(services: Services) -> Ingest:
    async def ingest(
        check: CheckConfig, result: ProbeResult, region: str, observed_at: datetime
    ) -> None:
        services.metrics.observe(check, result, region)
        await services.engine.ingest(check, result, region=region, observed_at=observed_at)

    return ingest


def site_view(config: Config) -> SiteView:
    """Return the page identity the read model carries."""
    site = config.site
    branding = Branding(
        logo_url=site.logo_url, brand_color=site.colors.brand, accent_color=site.colors.accent,
        help_url=site.help_url, x_url=site.x_url,
    )  # fmt: skip
    return SiteView(site.id, site.name, site.url, site.time_zone, tuple(site.languages), branding)
