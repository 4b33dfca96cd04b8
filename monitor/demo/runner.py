"""``exwatch demo``: the simulated exchange, exwatch watching it, and the scripted outage."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from pathlib import Path

from monitor.app import build_services, create_app
from monitor.config import ConfigError, load_config
from monitor.demo.exchange import RunningExchange, start_exchange
from monitor.demo.fake_x import FakeX
from monitor.demo.mailbox import start_mailbox
from monitor.demo.scenario import SCENARIO, run_scenario
from monitor.demo.webhook_log import webhook_routes
from monitor.server import uvicorn_server
from monitor.storage.database import Database, safe_url

# The four OAuth 1.0a keys X's channel reads as <prefix>_<name> (notifiers.x.client).
X_CREDENTIALS = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
DEMO_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "exchange.yaml"


async def run_demo(
    *, host: str, port: int, exchange_port: int, scenario: bool, database: Database
) -> int:
    """Run until interrupted; return the process exit code."""
    mailbox = await start_mailbox(host)
    fake_x = FakeX()
    extra = [*mailbox.mailbox.routes(), *fake_x.routes(), *webhook_routes(_say)]
    exchange = await start_exchange(host, exchange_port, extra_routes=extra)
    page_url = f"http://{host}:{port}/"
    env = {
        **os.environ,
        "EXWATCH_DEMO_EXCHANGE_URL": exchange.url,
        "EXWATCH_PUBLIC_URL": page_url.rstrip("/"),
        "EXWATCH_DEMO_SMTP_PORT": str(mailbox.port),
        # The demo's X is the simulated exchange: these keys sign requests nobody checks.
        **{f"EXWATCH_DEMO_X_{name}": "demo" for name in X_CREDENTIALS},
    }
    # The demo's admin API needs a token like any other install; one is made up if none is set.
    token = os.environ.get("EXWATCH_ADMIN_TOKEN") or secrets.token_urlsafe(18)
    try:
        config = load_config(os.environ.get("EXWATCH_DEMO_CONFIG", DEMO_CONFIG), env=env)
        services = build_services(config, database, admin_token=token, env=env)
    except ConfigError as error:
        print("\n".join([f"{error.source}: invalid config", *error.problems]), file=sys.stderr)
        await exchange.stop()
        await mailbox.stop()
        return 2
    server = uvicorn_server(create_app(services), host, port)
    print(_banner(page_url, exchange, database, scenario, token), flush=True)
    script = asyncio.create_task(run_scenario(exchange.url, log=_say)) if scenario else None
    try:
        await server.serve()
    finally:
        if script is not None:
            script.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await script
        await exchange.stop()
        await mailbox.stop()
    return 0


def _banner(
    page_url: str, exchange: RunningExchange, database: Database, scenario: bool, token: str
) -> str:
    lines = [
        "",
        "exwatch demo",
        f"  status page          {page_url}",
        f"  SRE console          {page_url}console   (sign in with the admin token below)",
        f"  Statuspage API       {page_url}api/v2/summary.json",
        f"  simulated exchange   {exchange.url}/",
        f"  database             {safe_url(database.url)}",
        f"  mail sent (mailbox)  {exchange.url}/_demo/mail",
        f"  posts on X (fake)    {exchange.url}/_demo/x",
        "",
        "  inject a fault:  curl -X POST "
        f'{exchange.url}/_faults -d \'{{"target": "trading-engine", "mode": "down", "seconds": 60}}\'',
        f"  clear faults:    curl -X DELETE {exchange.url}/_faults",
        "",
        f"  admin API        export EXWATCH_ADMIN_TOKEN={token}",
        f'    open incidents:  curl -H "Authorization: Bearer $EXWATCH_ADMIN_TOKEN" {page_url}api/admin/incidents',
        f'    acknowledge #1:  curl -X POST -H "Authorization: Bearer $EXWATCH_ADMIN_TOKEN" {page_url}api/admin/incidents/1/ack',
        f"    API reference:   {page_url}api/docs",
        "",
    ]
    if scenario:
        lines.append("  scripted scenario (run with --no-scenario to skip):")
        lines += [f"    +{step.at_seconds:g}s  {step.description}" for step in SCENARIO]
    else:
        lines.append("  no scripted scenario: inject faults by hand")
    lines += ["", "  Ctrl-C stops the demo.", ""]
    return "\n".join(lines)


def _say(line: str) -> None:
    print(line, flush=True)
