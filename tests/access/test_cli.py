"""``exwatch tokens create/list/revoke`` and ``exwatch audit``: the token printed once, audited."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.storage.database import Database
from monitor.storage.tables import api_tokens

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    address = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("EXWATCH_DATABASE_URL", address)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return address


def stored(url: str) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        database = Database(url)
        try:
            async with database.transaction() as session:
                return [dict(r._mapping) for r in await session.execute(select(api_tokens))]
        finally:
            await database.close()

    return asyncio.run(read())


def test_create_prints_the_token_once_and_stores_its_hash(url: str) -> None:
    made = runner.invoke(app, ["tokens", "create", "--name", "ci", "--role", "responder",
                               "--expires", "90d"])  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("exw_") and "\n" not in token
    assert "shown only this once" in made.stderr
    [row] = stored(url)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert (row["name"], row["role"]) == ("ci", "responder")
    listed = runner.invoke(app, ["tokens", "list"])
    assert listed.exit_code == 0 and token not in listed.output
    assert "1  ci  responder  active" in listed.stdout


def test_revoke_and_the_audit_of_cli_writes(url: str) -> None:
    token = runner.invoke(app, ["tokens", "create", "--name", "bob", "--role", "admin"]).stdout
    assert runner.invoke(app, ["tokens", "revoke", "1"]).exit_code == 0
    assert "1  bob  admin  revoked" in runner.invoke(app, ["tokens", "list"]).stdout
    again = runner.invoke(app, ["tokens", "revoke", "1"])
    assert again.exit_code == 1 and "no active token 1" in again.stderr
    audit = runner.invoke(app, ["audit", "--limit", "10"])
    assert audit.exit_code == 0
    lines = audit.stdout.splitlines()
    assert len(lines) == 3
    assert (
        "cli:" in lines[0] and "CLI  tokens create  0" in lines[0] and '"name": "bob"' in lines[0]
    )
    assert "tokens revoke  0" in lines[1] and "tokens revoke  1" in lines[2]
    assert token.strip() not in audit.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--role", "root"], "--role: one of viewer, responder, admin"),
        (["--name", "x", "--role", "viewer", "--expires", "soon"], "--expires:"),
        (["--name", " ", "--role", "viewer"], "--name:"),
    ],
)
def test_bad_requests_are_named(url: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["tokens", "create", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert stored(url) == []
