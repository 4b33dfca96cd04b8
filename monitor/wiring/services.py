"""The services of one exwatch process, built from a config and a database for its role."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.ack_links import AckLinks
from monitor.clock import Clock, SystemClock
from monitor.cluster.announce import Announcer
from monitor.cluster.change_feed import ChangeFeed
from monitor.cluster.fencing import Fence
from monitor.cluster.write_guard import leader_guard, serialize_engine_writes
from monitor.config import CheckConfig, Config, load_config
from monitor.engine import AlertEngine, OnChange, WriteGuard
from monitor.heartbeats import HeartbeatLedger
from monitor.incident_clock import IncidentClock
from monitor.incident_metrics import IncidentMetrics
from monitor.loop_lag import LoopLagMonitor
from monitor.maintenance import MaintenanceService
from monitor.metrics import ProbeMetrics
from monitor.outbox.planner import OutboxPlanner
from monitor.publisher import SnapshotPublisher
from monitor.reload.live import LiveConfig
from monitor.reload.reloader import ConfigReloader, local_checks
from monitor.reports import ReportDesk
from monitor.responder import Responder
from monitor.result_writer import ResultWriter
from monitor.retention import RetentionJob
from monitor.scheduler import CheckScheduler
from monitor.state_metrics import StateMetrics
from monitor.storage.database import Database, EventPlanner
from monitor.storage.query_metrics import QueryMetrics
from monitor.subscriptions import SubscriptionService
from monitor.ticker import Ticker
from monitor.views import Branding, SiteView
from monitor.wiring.roles import Role
from notifiers import REGISTRY as CHANNELS
from notifiers.channel import Channel
from notifiers.service import NotificationService
from probes import REGISTRY, HeartbeatProbe, ProbeResult, Registry
from statuspage import SnapshotStore
from statuspage.page_requests import PageRequests


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
    changed: OnChange
    """What a committed change calls: re-render here, and tell the other processes."""
    role: Role = Role.ALL
    fence: Fence | None = None
    """The leader's epoch (``--role engine``): every engine write checks it."""
    feed: ChangeFeed | None = None
    """What tells an api replica that another process committed a change (``--role api``)."""
    agent_token: str | None = None
    admin_token: str | None = None

    @property
    def config(self) -> Config:
        """The config in force (a reload replaces it; ``live`` is its holder)."""
        return self.live.current


@dataclass(frozen=True, slots=True)
class Secrets:
    """The keys and tokens a process is given (from the environment in ``exwatch run``)."""

    agent_token: str | None = None
    admin_token: str | None = None
    report_key: bytes | None = None
    subscription_key: bytes | None = None


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
    role: Role = Role.ALL,
) -> Services:
    """Create the engine, scheduler, snapshot publisher and metrics for ``config``.

    ``config_path`` is the file ``config`` came from: a config reload reads it again.
    """
    keys = Secrets(agent_token, admin_token, report_key, subscription_key)
    return _Builder(config, database, clock or SystemClock(), role, keys).build(
        registry=registry, metrics_registry=metrics_registry or CollectorRegistry(),
        channels=channels, env=env, config_path=config_path,
    )  # fmt: skip


class _Builder:
    """Builds one process's services; split in steps so each stays readable."""

    def __init__(
        self, config: Config, database: Database, clock: Clock, role: Role, keys: Secrets
    ) -> None:
        self.live = LiveConfig(config)
        self.database = database
        self.clock = clock
        self.role = role
        self.keys = keys
        self.fence = Fence() if role is Role.ENGINE else None

    def build(
        self,
        *,
        registry: Registry,
        metrics_registry: CollectorRegistry,
        channels: Mapping[str, Channel] | None,
        env: Mapping[str, str] | None,
        config_path: Path | None,
    ) -> Services:
        live, database, clock, keys = self.live, self.database, self.clock, self.keys
        metrics = ProbeMetrics(metrics_registry)
        incident_metrics = IncidentMetrics(metrics_registry)
        _platform_metrics(metrics_registry, database)
        store = SnapshotStore(requests=PageRequests.on(metrics_registry))
        publisher = SnapshotPublisher(database, live.derived(site_view), clock, store.publish)
        changed = self._on_change(publisher)
        writer = ResultWriter(database, clock, on_dropped=metrics.results_dropped.inc)
        engine = AlertEngine(database, live, clock, writer, on_change=changed, guard=self._guard())

        async def sink(check: CheckConfig, result: ProbeResult) -> None:
            metrics.observe(check, result)
            await engine.ingest(check, result)

        heartbeats = HeartbeatLedger(database, live, clock)
        scheduler = _scheduler(
            live.current, registry, sink, clock, metrics=metrics, heartbeats=heartbeats
        )
        reports = ReportDesk(
            database, engine, live, clock,
            key=keys.report_key or derived_key(keys.admin_token, b"exwatch user reports", size=32),
        )  # fmt: skip
        maintenance = MaintenanceService(engine=engine, database=database, config=live, clock=clock)
        subscriptions = SubscriptionService(
            database, live, clock,
            key=keys.subscription_key
            or derived_key(keys.admin_token, b"exwatch subscriptions", size=48),
        )  # fmt: skip
        acks = AckLinks(
            derived_key(keys.admin_token, b"exwatch ack links", size=32), live.current.site.url
        )
        notifications = _notifications(
            live, database, clock, subscriptions, acks,
            registry=metrics_registry, channels=channels, env=env, also=incident_metrics.plan,
        )  # fmt: skip
        ticker = self._ticker(engine, reports, maintenance, subscriptions, heartbeats)
        reloader = ConfigReloader(
            config_path, live, engine=engine, scheduler=scheduler, refresh=publisher.publish_now,
            load=lambda path: load_config(path, registry=registry),
        )  # fmt: skip
        return Services(
            live=live, reloader=reloader, database=database, engine=engine, scheduler=scheduler,
            publisher=publisher, store=store, metrics_registry=metrics_registry,
            loop_lag=LoopLagMonitor(metrics.loop_lag.observe), writer=writer,
            retention=RetentionJob(database, live.current.retention, clock),
            heartbeats=heartbeats, metrics=metrics, ticker=ticker, clock=clock,
            responder=Responder(engine, live), reports=reports, maintenance=maintenance,
            subscriptions=subscriptions, notifications=notifications, acks=acks,
            agent_token=keys.agent_token, admin_token=keys.admin_token,
            state_metrics=StateMetrics(database, metrics_registry), changed=changed,
            role=self.role, fence=self.fence, feed=self._feed(publisher, metrics_registry),
        )  # fmt: skip

    def _on_change(self, publisher: SnapshotPublisher) -> OnChange:
        """Re-render this process's page, and tell the other processes (``--role``)."""
        if self.role is Role.ALL:
            return publisher.changed
        announce = Announcer(self.database)
        if self.role is Role.ENGINE:
            return announce  # an engine serves no page; the api replicas re-render

        async def changed() -> None:
            await publisher.changed()
            await announce()

        return changed

    def _feed(self, publisher: SnapshotPublisher, registry: CollectorRegistry) -> ChangeFeed | None:
        """An api replica re-renders when another process commits (LISTEN/NOTIFY, catch-up)."""
        if self.role is not Role.API:
            return None
        return ChangeFeed(self.database, publisher.changed, registry=registry)

    def _guard(self) -> WriteGuard | None:
        """Engine writes of several processes go one at a time; a deposed leader's are refused."""
        if self.fence is not None:
            return leader_guard(self.fence.check)
        return serialize_engine_writes if self.role is Role.API else None

    def _ticker(
        self,
        engine: AlertEngine,
        reports: ReportDesk,
        maintenance: MaintenanceService,
        subscriptions: SubscriptionService,
        heartbeats: HeartbeatLedger,
    ) -> Ticker:
        """The periodic jobs: escalation and reminders, report expiry, maintenance, clean-up."""
        ticker = Ticker(self.clock)
        ticker.register("incidents", IncidentClock(engine, self.live).tick)
        for name, job in (
            ("user_reports", reports.tick),
            ("maintenance", maintenance.tick),
            ("subscriptions", subscriptions.tick),
        ):
            ticker.register(name, job)
        if self.role is Role.ENGINE:  # heartbeats are pushed to the api replicas

            async def reload_heartbeats(_: datetime) -> None:
                await heartbeats.load()

            ticker.register("heartbeats", reload_heartbeats)
        return ticker


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
        on_skip=metrics.scheduler_skipped.inc,
        probes={"heartbeat": HeartbeatProbe(heartbeats.last_push, lambda: clock.now().timestamp())},
    )


def derived_key(admin_token: str | None, purpose: bytes, *, size: int) -> bytes:
    """A key for ``purpose`` when none is configured: stable across restarts if there is an
    admin token (rotating the token then rotates it), random otherwise.

    Without a stable key, per-client report limits restart with the process and subscription
    links already sent stop working; `exwatch run` says so at start.
    """
    if admin_token:
        first = hmac.new(admin_token.encode(), purpose, hashlib.sha512).digest()
        return first[:size]
    return secrets.token_bytes(size)


def site_view(config: Config) -> SiteView:
    """Return the page identity the read model carries."""
    site = config.site
    branding = Branding(
        logo_url=site.logo_url, brand_color=site.colors.brand, accent_color=site.colors.accent,
        help_url=site.help_url, x_url=site.x_url,
    )  # fmt: skip
    return SiteView(site.id, site.name, site.url, site.time_zone, tuple(site.languages), branding)
