"""``exwatch export``: the site from the database, --watch following changes, clear errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from monitor.app import build_services
from monitor.config import load_config
from monitor.storage.database import Database
from tests.support import FAIL, FakeClock

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
site: {name: Test, languages: [ja, en]}
groups: [{id: trading, names: {ja: 取引, en: Trading}}]
components:
  - {id: engine, names: {ja: エンジン, en: Engine}, group: trading, impact_class: trading}
  - {id: login, names: {ja: ログイン, en: Login}, group: trading, impact_class: access}
checks:
  - {id: engine-check, component: engine, kind: http, url: "http://127.0.0.1:9/", interval: 10s,
     timeout: 1s, failures_to_alert: 2, on_failure: major_outage}
  - {id: login-check, component: login, kind: http, url: "http://127.0.0.1:9/", interval: 10s,
     timeout: 1s, failures_to_alert: 2}
"""
WAIT_SECONDS = 30.0


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "exwatch.yaml"
    path.write_text(CONFIG)
    return path


def export(config: Path, out: Path, url: str, *more: str) -> Result:
    arguments = ["export", "--config", str(config), "--out", str(out), *more]
    return runner.invoke(_cli(), arguments, env={"EXWATCH_DATABASE_URL": url})


def _cli() -> object:
    from monitor.cli import app

    return app


async def seed(database: Database, config: Path, *, failing: bool) -> None:
    """Write the catalog as ``exwatch run`` does, and open an incident on ``engine`` if asked."""
    loaded = load_config(config)
    services = build_services(loaded, database, FakeClock())
    await services.engine.start()
    if failing:
        check = next(c for c in loaded.checks if c.id == "engine-check")
        await services.engine.ingest(check, FAIL)
        await services.engine.ingest(check, FAIL)


def assert_clean_failure(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


async def test_export_writes_the_site_from_the_database(
    database: Database, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    await seed(database, config_file, failing=True)
    out = tmp_path / "site"
    result = await asyncio.to_thread(export, config_file, out, database_url, "--gzip")
    assert result.exit_code == 0, result.output
    assert f"to {out}" in result.output
    summary = json.loads((out / "api/v2/summary.json").read_text())
    assert summary["status"]["indicator"] == "critical"
    [item] = summary["incidents"]
    assert (out / "incidents" / item["id"] / "index.html").is_file()
    assert (out / "en/incidents" / item["id"] / "index.html").is_file()
    assert "エンジン" in (out / "index.html").read_text()
    assert (out / "static/style.css").is_file() and (out / "index.html.gz").is_file()
    api = (out / "api/v2/summary.json").stat().st_ino
    again = await asyncio.to_thread(export, config_file, out, database_url)
    assert again.exit_code == 0 and "unchanged)" in again.output
    assert (out / "api/v2/summary.json").stat().st_ino == api  # same state: JSON not rewritten


async def test_watch_rewrites_what_changes(
    database: Database, database_url: str, config_file: Path, tmp_path: Path
) -> None:
    await seed(database, config_file, failing=False)
    out = tmp_path / "site"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "export", "--config", str(config_file),
        "--out", str(out), "--watch", "--poll", "0.2", "--refresh", "3600",
        cwd=ROOT, env={**os.environ, "EXWATCH_DATABASE_URL": database_url},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        unresolved = out / "api/v2/incidents/unresolved.json"
        await wait_until(
            lambda: unresolved.is_file() and '"incidents":[]' in unresolved.read_text()
        )
        await seed(database, config_file, failing=True)
        await wait_until(lambda: '"impact":"critical"' in unresolved.read_text())
        assert '"status":"major_outage"' in (out / "en/api/v2/components.json").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(process.communicate(), timeout=WAIT_SECONDS)
    assert process.returncode == 0, errors.decode()
    assert b"Traceback" not in errors
    assert not list(out.rglob(".exwatch-*"))


async def wait_until(condition: object, seconds: float = WAIT_SECONDS) -> None:
    """Poll ``condition`` every 0.1 s; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the export did not change in time"
        await asyncio.sleep(0.1)


def test_a_missing_out_option_exits_2(config_file: Path) -> None:
    result = runner.invoke(_cli(), ["export", "--config", str(config_file)])
    assert_clean_failure(result, "--out")


def test_a_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {name: x}\ncomponents: []\n")
    result = export(bad, tmp_path / "site", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert_clean_failure(result, "components: must have at least 1 item(s)")
    assert not (tmp_path / "site").exists()


def test_out_being_a_file_exits_2(config_file: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = export(config_file, tmp_path / "file", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert_clean_failure(result, "is not a directory")


def test_a_poll_below_the_minimum_exits_2(config_file: Path, tmp_path: Path) -> None:
    result = export(
        config_file, tmp_path / "s", "sqlite+aiosqlite:///x.db", "--watch", "--poll", "0"
    )
    assert_clean_failure(result, "--poll")


def test_a_missing_sqlite_database_is_named_not_created(config_file: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = export(config_file, tmp_path / "site", f"sqlite+aiosqlite:///{missing}")
    assert_clean_failure(result, f"no database at {missing}")
    assert not missing.exists()


def test_a_database_without_exwatch_data_exits_2(config_file: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = export(config_file, tmp_path / "site", f"sqlite+aiosqlite:///{empty}")
    assert_clean_failure(result, "holds no exwatch data")


def test_a_database_exwatch_never_ran_on_exits_2(config_file: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert (
        runner.invoke(_cli(), ["db", "upgrade"], env={"EXWATCH_DATABASE_URL": url}).exit_code == 0
    )
    result = export(config_file, tmp_path / "site", url)
    assert_clean_failure(result, "has no components")


def test_an_unsupported_database_exits_2(config_file: Path, tmp_path: Path) -> None:
    result = export(config_file, tmp_path / "site", "mysql://nope")
    assert_clean_failure(result, "unsupported database 'mysql'")


def test_an_unreachable_database_exits_2_without_its_password(
    config_file: Path, tmp_path: Path
) -> None:
    url = "postgresql+asyncpg://user:s3cret@127.0.0.1:9/none"
    result = export(config_file, tmp_path / "site", url)
    assert_clean_failure(
        result, "cannot open the database postgresql+asyncpg://user:***@127.0.0.1:9/none"
    )
    assert "s3cret" not in result.output
