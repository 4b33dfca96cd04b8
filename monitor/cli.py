"""The ``exwatch`` command: run, demo, validate, schema, db upgrade."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import uvloop
from sqlalchemy.exc import SQLAlchemyError

from monitor.agent import AgentSettings, BufferInUseError, run_agent
from monitor.app import build_services, create_app
from monitor.config import Config, ConfigError, json_schema, load_config
from monitor.demo.runner import run_demo
from monitor.server import configure_logging, port_problem, uvicorn_server
from monitor.storage.database import Database, DatabaseUrlError, database_url, safe_url
from monitor.storage.migrate import current_revision, open_upgraded

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="exwatch: status and alerting for exchanges."
)
db_app = typer.Typer(no_args_is_help=True, help="Database commands.")
app.add_typer(db_app, name="db")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="the YAML config file")]
HostOption = Annotated[str, typer.Option(help="address to listen on")]


@app.command()
def run(config: ConfigOption, host: HostOption = "127.0.0.1", port: int = 8080) -> None:
    """Run exwatch: the status page, the API, the scheduler and the engine."""
    configure_logging()
    loaded = _load_or_exit(config)
    _exit_if_port_taken(host, port)
    raise typer.Exit(_until_stopped(_serve(loaded, host, port)))


@app.command()
def demo(
    no_scenario: Annotated[
        bool, typer.Option("--no-scenario", help="inject no faults by script")
    ] = False,
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the status page")] = 8080,
    exchange_port: Annotated[int, typer.Option(help="port of the simulated exchange")] = 8081,
) -> None:
    """Run the simulated exchange and exwatch watching it, with a scripted outage."""
    configure_logging()
    _exit_if_port_taken(host, port)
    _exit_if_port_taken(host, exchange_port)
    raise typer.Exit(_until_stopped(_demo(host, port, exchange_port, scenario=not no_scenario)))


@app.command()
def agent(
    server: Annotated[str, typer.Option(help="the exwatch server's URL")],
    region: Annotated[str, typer.Option(help="the region this agent probes from")],
    token: Annotated[
        str,
        typer.Option(
            envvar="EXWATCH_AGENT_TOKEN", help="the agents' bearer token (or EXWATCH_AGENT_TOKEN)"
        ),
    ] = "",
    buffer_dir: Annotated[
        Path | None, typer.Option(help="where results wait while the server is away")
    ] = None,
) -> None:
    """Run the checks of one region and push their results to the server."""
    configure_logging()
    try:
        settings = AgentSettings(server, region, token, buffer_dir)
    except ValueError as error:
        _fail([f"agent: {error}"])
    raise typer.Exit(_until_stopped(_agent(settings)))


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="the YAML config file")]) -> None:
    """Check a config file: exit 0 with a summary, or 2 with every error as `path: message`."""
    config = _load_or_exit(file)
    typer.echo(
        f"{file}: ok — {len(config.groups)} groups, {len(config.components)} components, "
        f"{len(config.checks)} checks"
    )


@app.command()
def schema() -> None:
    """Print the config's JSON Schema (for editors' YAML completion)."""
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema of EXWATCH_DATABASE_URL."""
    revision = uvloop.run(_upgrade_only())
    typer.echo(f"database at revision {revision}")


def main() -> None:
    """Entry point of the console script."""
    app()


def _until_stopped(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on uvloop; Ctrl-C is a normal way to stop, not an error."""
    try:
        return uvloop.run(main)
    except KeyboardInterrupt:
        # The server already shut down gracefully; asyncio re-raises the interrupt at the end.
        return 0


async def _serve(config: Config, host: str, port: int) -> int:
    database = await open_database()
    try:
        services = build_services(
            config, database, agent_token=os.environ.get("EXWATCH_AGENT_TOKEN")
        )
        typer.echo(f"exwatch: status page at http://{host}:{port}/", err=True)
        await uvicorn_server(create_app(services), host, port).serve()
    finally:
        await database.close()
    return 0


async def _demo(host: str, port: int, exchange_port: int, *, scenario: bool) -> int:
    database = await open_database()
    try:
        return await run_demo(
            host=host, port=port, exchange_port=exchange_port, scenario=scenario, database=database
        )
    finally:
        await database.close()


async def _agent(settings: AgentSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        await run_agent(settings, stop=stop)
    except BufferInUseError as error:
        _fail([f"agent: {error}"])
    return 0


async def open_database() -> Database:
    """Open EXWATCH_DATABASE_URL with its schema up to date, or exit naming the problem."""
    url = database_url()
    try:
        return await open_upgraded(url)
    except DatabaseUrlError as error:
        _fail([str(error)])
    except (SQLAlchemyError, OSError) as error:
        _fail([f"cannot open the database {safe_url(url)}: {error}"])


async def _upgrade_only() -> str | None:
    database = await open_database()
    try:
        return await current_revision(database)
    finally:
        await database.close()


def _load_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        _fail([f"{error.source}: invalid config", *error.problems])


def _exit_if_port_taken(host: str, port: int) -> None:
    problem = port_problem(host, port)
    if problem:
        _fail([problem])


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        print(line, file=sys.stderr)
    raise typer.Exit(2)


if __name__ == "__main__":
    main()
