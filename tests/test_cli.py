"""The exwatch command: validate, schema, db upgrade, and run refusing a bad config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.storage.migrate import head_revision

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "exchange.yaml"
runner = CliRunner()


def test_validate_accepts_the_example() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{EXAMPLE}: ok — 5 groups, ")
    assert len(result.output.strip().splitlines()) == 1


def test_validate_lists_every_error_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = EXAMPLE.read_text().replace("component: trading-engine", "component: tradng", 1)
    bad.write_text(text.replace("interval: 5s", "interval: 0s", 1))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "checks[0].interval: must be at least 1s" in result.output
    assert "Traceback" not in result.output
    bad.write_text(text)
    result = runner.invoke(app, ["validate", str(bad)])
    assert (
        "checks[0].component: unknown component 'tradng' (did you mean 'trading-engine'?)"
        in result.output
    )


def test_schema_is_json_schema_with_every_check_kind() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"site", "components", "checks", "severity"} <= set(schema["properties"])
    assert "HttpCheck" in schema["$defs"]
    assert schema["$defs"]["HttpCheck"]["properties"]["kind"]["const"] == "http"


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXWATCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"database at revision {head_revision()}"


def test_a_bad_database_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXWATCH_DATABASE_URL", "mysql://nope")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in result.output


def test_run_refuses_a_bad_config_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "never.db"
    monkeypatch.setenv("EXWATCH_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {name: x}\ncomponents: []\n")
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "components: must have at least 1 item(s)" in result.output
    assert not database.exists()


def test_run_refuses_to_start_without_a_channel_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXWATCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.delenv(f"EXWATCH_DEMO_X_{name}", raising=False)
    result = runner.invoke(app, ["run", "--config", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "cannot start" in result.output and "EXWATCH_DEMO_X_CONSUMER_KEY" in result.output


def test_database_passwords_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXWATCH_DATABASE_URL", "postgresql+asyncpg://user:s3cret@127.0.0.1:1/none")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert (
        "cannot open the database postgresql+asyncpg://user:***@127.0.0.1:1/none" in result.output
    )
    assert "s3cret" not in result.output


@pytest.mark.parametrize("role", ["api", "engine"])
def test_the_cluster_roles_need_postgres(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "never.db"
    monkeypatch.setenv("EXWATCH_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    result = runner.invoke(app, ["run", "--config", str(EXAMPLE), "--role", role])
    assert result.exit_code == 2
    assert f"--role {role} needs PostgreSQL" in result.output
    assert not database.exists()


def test_an_unknown_role_is_refused_naming_the_roles() -> None:
    result = runner.invoke(app, ["run", "--config", str(EXAMPLE), "--role", "worker"])
    assert result.exit_code == 2
    assert "'worker' is not one of" in result.output and "engine" in result.output
