"""The incident report carries the postmortem: Markdown quotes it, JSON holds it, CSV's last save
row carries its text; ``exwatch incidents export`` shows it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.report import IncidentReport, load_report, render
from monitor.report.as_csv import COLUMNS, unguard
from monitor.report.markdown_text import quoted
from monitor.report.wording import local_time
from monitor.storage.database import Database
from tests.postmortems.support import Desk, make_desk
from tests.support import FakeClock

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST = "draft one"
TEXT = "# Root cause\n\nA stuck feed | restarted.\n<script>alert(1)</script>\n\n1. detect\n2. fix"


@pytest.fixture
async def desk(database: Database, clock: FakeClock) -> Desk:
    return await make_desk(database, clock)


async def published(desk: Desk) -> tuple[int, IncidentReport]:
    incident_id = await desk.resolved_incident()
    await desk.service.save_draft(incident_id, FIRST, "alice")
    desk.clock.advance(60)
    await desk.service.save_draft(incident_id, TEXT, "alice")
    desk.clock.advance(60)
    await desk.service.publish(incident_id, "bob")
    report = await load_report(desk.database, incident_id, now=desk.clock.now())
    assert report is not None and report.postmortem is not None
    return incident_id, report


async def test_the_markdown_report_quotes_the_postmortem_as_written(desk: Desk) -> None:
    _, report = await published(desk)
    postmortem = report.postmortem
    assert postmortem is not None
    md = render(report, "md", zone=TOKYO)
    section = md[md.index("## Postmortem (事後報告)") : md.index("## Timeline")]
    assert (
        f"Published {local_time(postmortem.published_at, TOKYO)} by bob; "  # type: ignore[arg-type]
        f"last saved {local_time(postmortem.updated_at, TOKYO)} by alice."
    ) in section
    assert "\n".join(quoted(TEXT)) in section
    assert "> \\# Root cause" in section  # a heading of its own would break the report's outline
    assert "<script>" not in md
    assert "| Postmortem published | bob |" in md  # the timeline names the event and the actor


async def test_a_draft_is_in_the_report_marked_as_such(desk: Desk) -> None:
    incident_id = await desk.open_incident()
    await desk.service.save_draft(incident_id, TEXT, "alice")
    report = await load_report(desk.database, incident_id, now=desk.clock.now())
    assert report is not None
    md = render(report, "md", zone=TOKYO)
    assert f"Draft, not published; last saved {local_time(desk.clock.now(), TOKYO)} by alice." in md
    assert json.loads(render(report, "json", zone=TOKYO))["postmortem"]["published_at"] is None


async def test_the_json_report_holds_the_postmortem(desk: Desk) -> None:
    incident_id, report = await published(desk)
    document = json.loads(render(report, "json", zone=TOKYO))["postmortem"]
    assert document == {
        "incident_id": incident_id, "markdown": TEXT,
        "updated_at": report.postmortem.updated_at.astimezone(TOKYO).isoformat(),  # type: ignore[union-attr]
        "updated_by": "alice",
        "published_at": report.postmortem.published_at.astimezone(TOKYO).isoformat(),  # type: ignore[union-attr]
        "published_by": "bob",
    }  # fmt: skip


async def test_the_csv_gives_the_text_on_the_save_that_wrote_it(desk: Desk) -> None:
    _, report = await published(desk)
    rows = list(csv.DictReader(io.StringIO(render(report, "csv", zone=TOKYO)), fieldnames=COLUMNS))
    mine = [r for r in rows[1:] if r["kind"].startswith("postmortem")]
    assert [(r["kind"], r["actor"]) for r in mine] == [
        ("postmortem_saved", "alice"), ("postmortem_saved", "alice"), ("postmortem_published", "bob"),
    ]  # fmt: skip
    first, last, publication = (json.loads(unguard(r["details"])) for r in mine)
    assert "markdown" not in first  # that text was replaced; only the last one is kept
    assert last["markdown"] == TEXT
    assert publication == {"characters": len(TEXT)}


async def test_an_incident_without_a_postmortem_reports_none(desk: Desk) -> None:
    incident_id = await desk.resolved_incident()
    report = await load_report(desk.database, incident_id, now=desk.clock.now())
    assert report is not None
    assert json.loads(render(report, "json", zone=TOKYO))["postmortem"] is None
    assert "Postmortem" not in render(report, "md", zone=TOKYO)


async def test_the_export_command_shows_it(desk: Desk) -> None:
    incident_id, _ = await published(desk)
    env = {"EXWATCH_DATABASE_URL": desk.database.url}
    result = await asyncio.to_thread(
        lambda: CliRunner().invoke(app, ["incidents", "export", str(incident_id)], env=env)
    )
    assert result.exit_code == 0, result.output
    assert "## Postmortem (事後報告)" in result.stdout
    assert "> A stuck feed \\| restarted.\\" in result.stdout
