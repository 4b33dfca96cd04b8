"""``exwatch incidents export`` on SQLite and PostgreSQL: each format, files, and its errors."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from monitor.cli import app
from monitor.storage.database import Database
from tests.report.scenario import OPENING_REASON, engine_incident, manual_incident
from tests.support import FakeClock

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "exchange.yaml"


@pytest.fixture
def london_config(tmp_path: Path) -> Path:
    """The example config with its site in London."""
    config = tmp_path / "site.yaml"
    config.write_text(
        EXAMPLE.read_text().replace("time_zone: Asia/Tokyo", "time_zone: Europe/London")
    )
    return config


async def export(database: Database, *args: str) -> Result:
    """Run the command in a thread of its own (it runs its own event loop), on ``database``."""
    env = {"EXWATCH_DATABASE_URL": database.url}
    return await asyncio.to_thread(
        lambda: runner.invoke(app, ["incidents", "export", *args], env=env)
    )


async def test_each_format_goes_to_stdout(database: Database, clock: FakeClock) -> None:
    made = await engine_incident(database, clock)
    number = str(made.incident_id)
    md = await export(database, number, "--format", "md")
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith(f"# Incident report #{number}: market-data: major outage")
    assert OPENING_REASON in md.stdout
    assert "| MTTR (detection → resolution) | 4 min |" in md.stdout
    as_json = await export(database, number, "-f", "json")
    assert json.loads(as_json.stdout)["incident"]["id"] == made.incident_id
    as_csv = await export(database, f"#{number}", "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0][:3] == ["at", "kind", "actor"] and len(rows) > 10


async def test_the_time_zone_comes_from_the_option_or_the_config(
    database: Database, clock: FakeClock, london_config: Path
) -> None:
    made = await engine_incident(database, clock)
    number = str(made.incident_id)
    default = await export(database, number)
    assert "All times are in Asia/Tokyo (UTC+09:00)." in default.stdout
    utc = await export(database, number, "--time-zone", "UTC")
    assert "All times are in UTC (UTC+00:00)." in utc.stdout
    london = await export(database, number, "--config", str(london_config))
    assert london.exit_code == 0, london.output
    assert "All times are in Europe/London (UTC+00:00)." in london.stdout


async def test_output_writes_a_file(database: Database, clock: FakeClock, tmp_path: Path) -> None:
    incident_id = await manual_incident(database, clock)
    target = tmp_path / "report.csv"
    result = await export(database, str(incident_id), "-f", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"incident #{incident_id} exported as csv to {target}" in result.stderr
    content = target.read_bytes()
    assert content.startswith("\ufeff".encode())  # for spreadsheets, as the download
    assert "BTC出金" not in content.decode("utf-8-sig")  # the CSV is the timeline, not the title
    assert "incident_opened" in content.decode("utf-8-sig")


async def test_an_unknown_incident_exits_1(database: Database, clock: FakeClock) -> None:
    await engine_incident(database, clock)
    result = await export(database, "999", "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.strip() == "no incident #999"
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["1", "--format", "pdf"], "--format: unknown format 'pdf': use one of json, csv, md"),
     (["abc"], "ID: 'abc' is not an incident number"),
     (["0"], "ID: '0' is not an incident number"),
     (["99999999999999999999"], "is not an incident number"),
     (["1", "--time-zone", "Mars/Olympus"], "--time-zone: unknown time zone 'Mars/Olympus'")],
)  # fmt: skip
async def test_bad_input_exits_2_with_a_message(
    database: Database, args: list[str], message: str
) -> None:
    result = await export(database, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


async def test_an_unwritable_output_exits_2(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    made = await engine_incident(database, clock)
    missing = tmp_path / "no" / "such" / "dir.md"
    result = await export(database, str(made.incident_id), "--output", str(missing))
    assert result.exit_code == 2
    assert f"--output: cannot write {missing}" in result.stderr


async def test_the_console_script_stops_quietly_when_the_reader_does(
    database: Database, clock: FakeClock
) -> None:
    made = await engine_incident(database, clock)
    command = [sys.executable, "-m", "monitor.cli", "incidents", "export", str(made.incident_id)]
    env = {"EXWATCH_DATABASE_URL": database.url, "PATH": "/usr/bin:/bin"}
    reader = await asyncio.to_thread(
        subprocess.run,
        f"{' '.join(command)} | head -n 1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert reader.stdout.startswith("# Incident report #")
    assert reader.stderr == ""
