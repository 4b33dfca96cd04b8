"""``exwatch config reload --url URL``: ask a running exwatch to reload its config file.

It calls ``POST /api/admin/config/reload`` with an admin token (``--token`` or
EXWATCH_ADMIN_TOKEN), so the reload is audited like any API write. ``kill -HUP`` does the same
on the server's host without a token.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer

from monitor.cli_support import fail

config_app = typer.Typer(no_args_is_help=True, help="Config commands.")
TIMEOUT_S = 60.0  # a reload with many checks rewrites the catalog: give it time


@config_app.command("reload")
def reload(
    url: Annotated[str, typer.Option(help="the running exwatch, e.g. http://127.0.0.1:8080")],
    token: Annotated[
        str,
        typer.Option(envvar="EXWATCH_ADMIN_TOKEN", help="an admin token (or EXWATCH_ADMIN_TOKEN)"),
    ] = "",
) -> None:
    """Reload the config file of the exwatch at URL: print what changed, or every error."""
    if not token:
        fail(["--token: an admin token is needed (or set EXWATCH_ADMIN_TOKEN)"])
    endpoint = url.rstrip("/") + "/api/admin/config/reload"
    try:
        response = httpx.post(
            endpoint, headers={"authorization": f"Bearer {token}"}, timeout=TIMEOUT_S
        )
    except httpx.HTTPError as error:
        fail([f"--url: cannot reach {endpoint}: {error}"])
    body = _json(response)
    if response.status_code != 200:
        fail(_refusal_lines(response.status_code, body))
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": response.text[:500]}


def _refusal_lines(status: int, body: Any) -> list[str]:
    """One line for the refusal, then one per problem (``path: message`` as validate prints)."""
    if not isinstance(body, dict):
        return [f"reload refused ({status})"]
    lines = [f"reload refused ({status}): {body.get('error') or body.get('detail')}"]
    for problem in body.get("problems") or []:
        if isinstance(problem, dict):
            lines.append(f"{problem.get('path')}: {problem.get('message')}")
        else:
            lines.append(str(problem))
    return lines
