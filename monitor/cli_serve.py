"""``exwatch run``: one process of the given role, served until a signal stops it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import typer

from monitor.app import Role, build_services, create_app
from monitor.cli_support import open_database
from monitor.config import Config, ConfigError
from monitor.heap import settle_after_startup
from monitor.reload.sighup import SighupReload
from monitor.reports.limits import MIN_KEY_BYTES
from monitor.server import uvicorn_server
from monitor.storage.database import Database, database_url
from monitor.subscriptions.tokens import MIN_KEY_BYTES as SUBSCRIPTION_KEY_BYTES
from monitor.wiring.services import Services
from statuspage.fast_protocol import snapshot_protocol
from statuspage.snapshot import RenderProcess


def role_problem(role: Role, url: str) -> str | None:
    """Why ``role`` cannot run on the database at ``url``, or None."""
    if role.needs_postgres and not url.startswith("postgresql"):
        return (
            f"exwatch: --role {role} needs PostgreSQL (EXWATCH_DATABASE_URL="
            "postgresql+asyncpg://…): several processes coordinate through it"
        )
    return None


def key_problem() -> str | None:
    """A configured key too short to be safe, named; None when the keys are fine."""
    for name, size in (
        ("EXWATCH_REPORT_KEY", MIN_KEY_BYTES),
        ("EXWATCH_SUBSCRIPTION_KEY", SUBSCRIPTION_KEY_BYTES),
    ):
        value = os.environ.get(name)
        if value is not None and len(value.encode()) < size:
            return f"exwatch: {name} must be at least {size} bytes"
    return None


async def serve(
    config: Config, host: str, port: int, *, path: Path, role: Role, lease: float
) -> int:
    """Run one process until stopped; return its exit status."""
    problem = key_problem() or role_problem(role, database_url())
    if problem:
        typer.echo(problem, err=True)
        return 2
    database = await open_database(**_engine_options(role, lease))
    try:
        try:
            services = _services(config, database, path, role)
        except ConfigError as error:
            typer.echo(
                "\n".join([f"exwatch: {error.source}: cannot start", *error.problems]), err=True
            )
            return 2
        _say_what_runs(services, host, port)
        settle_after_startup()
        await _serve_http(services, host, port, lease)
    finally:
        await database.close()
    return 0


def _engine_options(role: Role, lease: float) -> dict[str, Any]:
    """An engine's transactions may not sit idle: a paused old leader's would hold up writes."""
    if role is not Role.ENGINE:
        return {}
    timeout_ms = str(int(lease * 1000))
    return {
        "connect_args": {"server_settings": {"idle_in_transaction_session_timeout": timeout_ms}}
    }


def _services(config: Config, database: Database, path: Path, role: Role) -> Services:
    report_key = os.environ.get("EXWATCH_REPORT_KEY")
    subscription_key = os.environ.get("EXWATCH_SUBSCRIPTION_KEY")
    return build_services(
        config, database,
        agent_token=os.environ.get("EXWATCH_AGENT_TOKEN"),
        admin_token=os.environ.get("EXWATCH_ADMIN_TOKEN"),
        report_key=report_key.encode() if report_key else None,
        subscription_key=subscription_key.encode() if subscription_key else None,
        config_path=path,
        role=role,
    )  # fmt: skip


def _say_what_runs(services: Services, host: str, port: int) -> None:
    if services.role is Role.ENGINE:
        typer.echo(f"exwatch: engine, leader or standby: http://{host}:{port}/healthz", err=True)
        return
    if not services.admin_token:
        typer.echo(
            "exwatch: EXWATCH_ADMIN_TOKEN is not set: only tokens from "
            "`exwatch tokens create` open the admin API",
            err=True,
        )
    typer.echo(f"exwatch: status page at http://{host}:{port}/", err=True)


async def _serve_http(services: Services, host: str, port: int, lease: float) -> None:
    renderer = None
    if services.role is not Role.ENGINE:
        # Renders off this process: a re-render must not hold up requests (RenderProcess).
        services.store.renderer = renderer = RenderProcess()
    server = uvicorn_server(create_app(services, lease=lease), host, port)
    if renderer is not None:
        # The page's documents are answered on the connection itself (statuspage.fast_protocol).
        server.config.http = snapshot_protocol(services.store)
    # `kill -HUP` reloads the config file, as POST /api/admin/config/reload does.
    sighup = SighupReload(services.reloader, services.database, services.clock)
    unhandle = sighup.install(asyncio.get_running_loop())
    try:
        await server.serve()
    finally:
        unhandle()
        await sighup.wait()
        if renderer is not None:
            renderer.close()
