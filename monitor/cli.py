"""The ``exwatch`` command: run, demo, simulate, validate, schema, export, db upgrade,
incidents export, tokens create/list/revoke, audit and config reload."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
import uvloop
from sqlalchemy.exc import SQLAlchemyError

from monitor.agent import AgentSettings, BufferInUseError, run_agent
from monitor.app import Role, site_view
from monitor.cli_access import audit, tokens_app
from monitor.cli_serve import serve
from monitor.cli_support import fail, open_database
from monitor.clock import SystemClock
from monitor.config import Config, ConfigError, json_schema, load_config
from monitor.config.models import Site
from monitor.demo.runner import run_demo
from monitor.demo.simulate import run_simulator
from monitor.logging_json import FORMAT_VARIABLE, use_log_format
from monitor.reload.cli import config_app
from monitor.report import FORMATS, UnknownFormatError, as_file, export_format, load_report, render
from monitor.server import configure_logging, port_problem
from monitor.static_export import ExportLoop, ExportSetupError, Timing, open_existing
from monitor.storage.database import database_url, safe_url
from monitor.storage.migrate import current_revision
from monitor.storage.timeline_reads import MAX_ID
from monitor.tracing import setup_tracing
from statuspage.export import ExportReport, SiteWriter, sweep_temporary_files

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="exwatch: status and alerting for exchanges."
)
db_app = typer.Typer(no_args_is_help=True, help="Database commands.")
app.add_typer(db_app, name="db")
incidents_app = typer.Typer(no_args_is_help=True, help="Incident commands.")
app.add_typer(incidents_app, name="incidents")
app.add_typer(tokens_app, name="tokens")
app.add_typer(config_app, name="config")
app.command("audit")(audit)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="the YAML config file")]
HostOption = Annotated[str, typer.Option(help="address to listen on")]


LogFormatOption = Annotated[
    str,
    typer.Option(
        envvar=FORMAT_VARIABLE,
        help="log lines: plain, or json (with trace ids; or EXWATCH_LOG_FORMAT)",
    ),
]


@app.command()
def run(
    config: ConfigOption,
    *,
    host: HostOption = "127.0.0.1",
    port: int = 8080,
    log_format: LogFormatOption = "plain",
    role: Annotated[
        Role, typer.Option(help="all (one process), or api / engine (several, on PostgreSQL)")
    ] = Role.ALL,
    lease: Annotated[
        float, typer.Option(min=1.0, max=300.0, help="--role engine: leadership lease, seconds")
    ] = 10.0,
) -> None:
    """Run exwatch: the status page, the API, the scheduler and the engine (or one role)."""
    _configure_observability(log_format)
    loaded = _load_or_exit(config)
    _exit_if_port_taken(host, port)
    raise typer.Exit(_until_stopped(serve(loaded, host, port, path=config, role=role, lease=lease)))


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
    _configure_observability("plain")
    _exit_if_port_taken(host, port)
    _exit_if_port_taken(host, exchange_port)
    raise typer.Exit(_until_stopped(_demo(host, port, exchange_port, scenario=not no_scenario)))


@app.command()
def simulate(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the simulated exchange")] = 8081,
) -> None:
    """Run only the simulated exchange (faults at /_faults), e.g. for docker compose."""
    _exit_if_port_taken(host, port)
    raise typer.Exit(_until_stopped(run_simulator(host, port)))


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
    agent_id: Annotated[
        str | None,
        typer.Option(
            envvar="EXWATCH_AGENT_ID",
            help="this agent's id among its region's agents (default: the host name and a "
            "random suffix, kept in the buffer directory)",
        ),
    ] = None,
) -> None:
    """Run the checks of one region (its share, beside other agents) and push their results."""
    configure_logging()
    try:
        settings = AgentSettings(server, region, token, buffer_dir, agent_id=agent_id)
    except ValueError as error:
        fail([f"agent: {error}"])
    raise typer.Exit(_until_stopped(_agent(settings)))


def _configure_observability(log_format: str) -> None:
    """Set up logging in ``log_format`` and, if OTEL_EXPORTER_OTLP_ENDPOINT is set, tracing."""
    configure_logging()
    try:
        use_log_format(log_format)
    except ValueError as error:
        fail([f"--log-format: {error}"])
    setup_tracing(os.environ)


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


@app.command("export")
def export(
    config: ConfigOption,
    *,
    out: Annotated[Path, typer.Option("--out", "-o", help="the directory to write the site to")],
    watch: Annotated[
        bool, typer.Option("--watch", help="keep running: rewrite the files that change")
    ] = False,
    poll: Annotated[
        float, typer.Option(min=0.1, help="--watch: seconds between reads of the database")
    ] = 5.0,
    refresh: Annotated[
        float, typer.Option(min=1.0, help="--watch: re-render at least this often (seconds)")
    ] = 60.0,
    precompressed: Annotated[
        bool, typer.Option("--gzip", help="also write FILE.gz beside each file (gzip_static)")
    ] = False,
) -> None:
    """Write the public site from EXWATCH_DATABASE_URL to OUT, for any static host or CDN."""
    configure_logging()
    loaded = _load_or_exit(config)
    _prepare_out(out)
    writer = SiteWriter(out, precompressed=precompressed)
    timing = Timing(poll=poll, refresh=refresh)
    raise typer.Exit(_until_stopped(_export(loaded, writer, out, watch=watch, timing=timing)))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema of EXWATCH_DATABASE_URL."""
    revision = uvloop.run(_upgrade_only())
    typer.echo(f"database at revision {revision}")


@incidents_app.command("export")
def incidents_export(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="the incident number")],
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"one of {', '.join(FORMATS)}")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here instead of to stdout")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="the YAML config (its site time zone)")
    ] = None,
    time_zone: Annotated[
        str | None,
        typer.Option(help="IANA zone for times (default: the config's site time zone)"),
    ] = None,
) -> None:
    """Export incident ID from EXWATCH_DATABASE_URL as a report: json, csv (timeline) or md."""
    try:
        chosen = export_format(format).name
    except UnknownFormatError as error:
        fail([f"--format: {error}"])
    number = _incident_number(incident_id)
    zone = _report_zone(time_zone, config)
    text = uvloop.run(_export_text(number, chosen, zone))
    if output is None:
        _print_quietly(text)
    else:
        _write_export(output, as_file(text, chosen))
        typer.echo(f"incident #{number} exported as {chosen} to {output}", err=True)


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
        fail([f"agent: {error}"])
    return 0


async def _export(
    config: Config, writer: SiteWriter, out: Path, *, watch: bool, timing: Timing
) -> int:
    try:
        database = await open_existing(database_url())
    except ExportSetupError as error:
        fail([f"export: {error}"])
    try:
        loop = ExportLoop(database, site_view(config), SystemClock(), writer, timing)
        try:
            _say_exported(out, await loop.once(), always=True)
        except (ExportSetupError, SQLAlchemyError, OSError) as error:
            fail([f"export: {error}"])
        if watch:
            typer.echo(f"exwatch: watching for changes every {timing.poll:g} s", err=True)
            await loop.watch(_stop_on_signals(), lambda report: _say_exported(out, report))
    finally:
        await database.close()
    return 0


def _say_exported(out: Path, report: ExportReport, *, always: bool = False) -> None:
    if report.written or always:
        typer.echo(
            f"exported {report.files} files to {out} "
            f"({report.written} written, {report.unchanged} unchanged)",
            err=True,
        )


def _prepare_out(out: Path) -> None:
    """Make sure OUT is a directory we can write to, and clear what a killed export left."""
    if out.exists() and not out.is_dir():
        fail([f"--out: {out} is not a directory"])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail([f"--out: cannot create {out}: {error.strerror or error}"])
    if not os.access(out, os.W_OK | os.X_OK):
        fail([f"--out: cannot write to {out}"])
    sweep_temporary_files(out)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    return stop


async def _upgrade_only() -> str | None:
    database = await open_database()
    try:
        return await current_revision(database)
    finally:
        await database.close()


async def _export_text(incident_id: int, chosen: str, zone: ZoneInfo) -> str:
    database = await open_database()
    try:
        report = await load_report(database, incident_id, now=SystemClock().now())
    except (SQLAlchemyError, OSError) as error:
        fail([f"cannot read the database {safe_url(database.url)}: {error}"])
    finally:
        await database.close()
    if report is None:
        print(f"no incident #{incident_id}", file=sys.stderr)
        raise typer.Exit(1)
    return render(report, chosen, zone=zone)


def _write_export(output: Path, content: bytes) -> None:
    try:
        output.write_bytes(content)
    except OSError as error:
        fail([f"--output: cannot write {output}: {error.strerror or error}"])


def _print_quietly(text: str) -> None:
    """Write to stdout; a reader that stops early (``| head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again while flushing at exit: point stdout at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _incident_number(text: str) -> int:
    digits = text.removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) <= MAX_ID:
        fail([f"ID: {text!r} is not an incident number (a positive whole number, e.g. 12)"])
    return int(digits)


def _report_zone(name: str | None, config: Path | None) -> ZoneInfo:
    """Return the zone a report shows times in: --time-zone, the config's, or the default."""
    default = Site.model_fields["time_zone"].default
    chosen = name or (_load_or_exit(config).site.time_zone if config else default)
    try:
        return ZoneInfo(chosen)
    except (ZoneInfoNotFoundError, ValueError):
        fail([f"--time-zone: unknown time zone {chosen!r} (use an IANA name such as Asia/Tokyo)"])


def _load_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        fail([f"{error.source}: invalid config", *error.problems])


def _exit_if_port_taken(host: str, port: int) -> None:
    problem = port_problem(host, port)
    if problem:
        fail([problem])


if __name__ == "__main__":
    main()
