"""``exwatch tokens create/list/revoke`` and ``exwatch audit``: API tokens and the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
import uvloop
from sqlalchemy.exc import SQLAlchemyError

from monitor.admin.token_desk import Caller, CreatedToken, TokenDesk, TokenRequestError
from monitor.admin.tokens import ROLES
from monitor.cli_support import fail, open_database
from monitor.clock import SystemClock
from monitor.storage.api_tokens import TokenRow
from monitor.storage.audit import AuditRow
from monitor.storage.database import safe_url
from probes import parse_duration

T = TypeVar("T")
tokens_app = typer.Typer(no_args_is_help=True, help="API tokens of the admin API.")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="who or what holds the token, e.g. alice or ci")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    expires: Annotated[
        str | None, typer.Option(help="how long it lasts, e.g. 90d (default: until revoked)")
    ] = None,
) -> None:
    """Create an API token and print it once: only its hash is stored."""
    expires_in = _expiry(expires)

    async def create(desk: TokenDesk) -> CreatedToken:
        return await desk.create(name, role, expires_in=expires_in, caller=_cli_caller())

    try:
        made = uvloop.run(_with_desk(create))
    except TokenRequestError as error:
        fail([f"--{error}"])
    until = made.expires_at.isoformat() if made.expires_at else "never"
    typer.echo(f"token {made.id} {made.name!r} ({made.role}), expires {until}.", err=True)
    typer.echo("Store it now: it is shown only this once.", err=True)
    typer.echo(made.token)


@tokens_app.command("list")
def tokens_list() -> None:
    """List the API tokens (never their secrets) and whether each is active."""
    rows = uvloop.run(_with_desk(lambda desk: desk.tokens()))
    now = SystemClock().now()
    typer.echo("id  name  role  state  created  expires  last used")
    for row in rows:
        typer.echo(_token_line(row, now))


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="the token's id")],
) -> None:
    """Revoke token ID: it stops working at once."""
    done = uvloop.run(_with_desk(lambda desk: desk.revoke(token_id, caller=_cli_caller())))
    if not done:
        typer.echo(f"no active token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


def audit(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="how many entries")] = 50,
) -> None:
    """Print the newest audit log entries (writes through the admin API and the CLI)."""
    rows = uvloop.run(_with_desk(lambda desk: desk.audit(after_id=None, limit=limit)))
    for row in rows:
        typer.echo(_audit_line(row))


async def _with_desk(work: Callable[[TokenDesk], Awaitable[T]]) -> T:
    """Run ``work`` on a token desk over EXWATCH_DATABASE_URL."""
    database = await open_database()
    try:
        return await work(TokenDesk(database, SystemClock()))
    except (SQLAlchemyError, OSError) as error:
        fail([f"cannot use the database {safe_url(database.url)}: {error}"])
    finally:
        await database.close()


def _expiry(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        fail([f"--expires: {error}"])


def _cli_caller() -> Caller:
    """The operating-system user running the CLI, for the audit log."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return Caller(actor=f"cli:{user}", client="cli")


def _token_line(row: TokenRow, now: datetime) -> str:
    state = "revoked" if row.revoked_at else "active" if row.usable(now) else "expired"
    stamps = [row.created_at, row.expires_at, row.last_used_at]
    when = [s.isoformat(timespec="seconds") if s else "-" for s in stamps]
    return "  ".join([str(row.id), row.name, row.role, state, *when])


def _audit_line(row: AuditRow) -> str:
    entry = row.entry
    fields = [
        str(row.id), entry.at.isoformat(timespec="seconds"), entry.actor, entry.role or "-",
        entry.method, entry.route, str(entry.status), entry.client or "-", entry.summary or "",
    ]  # fmt: skip
    return "  ".join(fields)
