"""What each export says about an engine-made incident and a manual one, on both databases."""

from __future__ import annotations

import csv
import io
import json
from zoneinfo import ZoneInfo

from monitor.report import IncidentReport, load_report, render
from monitor.report.as_csv import COLUMNS, unguard
from monitor.report.markdown_text import cell, quoted
from monitor.report.wording import local_time
from monitor.storage.database import Database
from tests.report.scenario import (
    HUMAN_REASON,
    HUMAN_UPDATE,
    MANUAL_REPORT,
    OPENING_REASON,
    RAISED_REASON,
    EngineIncident,
    engine_incident,
    manual_incident,
)
from tests.support import FakeClock

TOKYO = ZoneInfo("Asia/Tokyo")


async def made_report(
    database: Database, clock: FakeClock
) -> tuple[EngineIncident, IncidentReport]:
    made = await engine_incident(database, clock)
    report = await load_report(database, made.incident_id, now=clock.now())
    assert report is not None
    return made, report


async def test_the_facts_of_an_engine_made_incident(database: Database, clock: FakeClock) -> None:
    made, report = await made_report(database, clock)
    facts = report.milestones
    assert facts.detected_at == made.detected_at
    assert facts.first_public_post_at == made.detected_at  # the engine posts when it opens
    assert (facts.first_acknowledged_at, facts.first_acknowledged_by) == (
        made.acknowledged_at,
        "bob",
    )
    assert facts.resolved_at == made.resolved_at
    assert facts.mtta == made.acknowledged_at - made.detected_at
    assert facts.mttr == made.resolved_at - made.detected_at
    steps = [(s.previous, s.severity, s.reason, s.actor) for s in report.severity_history]
    assert steps == [
        (None, "moderate", OPENING_REASON, "engine"),
        ("moderate", "critical", RAISED_REASON, "engine"),
        ("critical", "moderate", HUMAN_REASON, "alice"),
    ]
    impacts = {i.component.component_id: i for i in report.components}
    assert set(impacts) == {"market-data", "charts"}
    assert impacts["charts"].recovered_at == made.resolved_at
    assert impacts["market-data"].recovered_at < made.resolved_at  # type: ignore[operator]
    assert impacts["market-data"].component.name_ja == "market-data(ja)"


async def test_the_markdown_report_has_what_a_regulator_asks(
    database: Database, clock: FakeClock
) -> None:
    made, report = await made_report(database, clock)
    md = render(report, "md", zone=TOKYO)
    assert md.startswith(f"# Incident report #{made.incident_id}: market-data: major outage\n")
    assert f"障害報告書 第{made.incident_id}号: market-data(ja)の大規模障害" in md
    assert "All times are in Asia/Tokyo (UTC+09:00)." in md
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines() if " | " in line}
    assert f"| Detected | {local_time(made.detected_at, TOKYO)} (first alert: " in rows["Detected"]
    assert local_time(made.detected_at, TOKYO) == "2026-11-21 18:00:20 +09:00"
    assert rows["First public post"] == "| First public post | 2026-11-21 18:00:20 +09:00 |"
    assert rows["First acknowledgement"].endswith(
        f"{local_time(made.acknowledged_at, TOKYO)} by bob |"
    )
    assert rows["Resolved"] == f"| Resolved | {local_time(made.resolved_at, TOKYO)} |"
    assert rows["MTTA (detection → first acknowledgement)"].endswith("| 2 min 20 s |")
    assert rows["MTTR (detection → resolution)"].endswith("| 4 min |")
    assert rows["Cause category"] == "| Cause category | system (システム障害) |"
    for reason in (OPENING_REASON, RAISED_REASON, HUMAN_REASON):
        assert f"| {cell(reason)} |" in md
    assert "| critical (重大) → moderate (中程度) | " + cell(HUMAN_REASON) + " | alice |" in md
    assert "| market-data | market-data | market-data(ja) | major_outage | " in md


async def test_the_markdown_report_quotes_every_public_update(
    database: Database, clock: FakeClock
) -> None:
    _, report = await made_report(database, clock)
    md = render(report, "md", zone=TOKYO)
    assert "## Public updates (3)" in md
    assert "### 2. 2026-11-21 18:03:40 +09:00 — identified (原因特定)" in md
    for update in report.updates:
        for text in (update.body_en, update.body_ja):
            assert "\n".join(quoted(text)) in md
    assert (
        "> We found the cause: a \\<b\\>stuck\\</b\\> feed \\| restarting it.\\\n> \\# not a heading"
        in md
    )
    assert HUMAN_UPDATE["ja"].splitlines()[0] in md
    timeline = md.split("## Timeline (")[1]
    assert timeline.startswith(f"{len(report.timeline)} events)")
    assert "| Acknowledged | bob |" in timeline
    assert "public update 2 above (identified)" in timeline


async def test_the_json_export_holds_everything(database: Database, clock: FakeClock) -> None:
    made, report = await made_report(database, clock)
    document = json.loads(render(report, "json", zone=TOKYO))
    assert document["format"] == "exwatch.incident-report/1"
    assert document["incident"]["id"] == made.incident_id
    assert document["incident"]["resolved_at"] == made.resolved_at.astimezone(TOKYO).isoformat()
    assert document["summary"]["mtta_seconds"] == 140.0
    assert document["summary"]["mttr_seconds"] == 240.0
    assert document["summary"]["first_acknowledged_by"] == "bob"
    assert [c["component_id"] for c in document["components"]] == ["market-data", "charts"]
    assert [s["reason"] for s in document["severity_history"]] == [
        OPENING_REASON, RAISED_REASON, HUMAN_REASON,
    ]  # fmt: skip
    assert [u["status"] for u in document["updates"]] == ["investigating", "identified", "resolved"]
    assert [e["id"] for e in document["timeline"]] == [e.id for e in report.timeline]
    assert len(document["alerts"]) == 2


async def test_the_csv_export_is_one_row_per_event(database: Database, clock: FakeClock) -> None:
    _, report = await made_report(database, clock)
    header, *rows = list(csv.reader(io.StringIO(render(report, "csv", zone=TOKYO), newline="")))
    assert tuple(header) == COLUMNS
    assert len(rows) == len(report.timeline)
    records = [dict(zip(COLUMNS, map(unguard, row), strict=True)) for row in rows]
    assert records[0]["at"] == "2026-11-21T18:00:20+09:00"
    assert records[0]["kind"] == "alert_fired" and records[0]["check"] == "market-data-check"
    lowered = next(r for r in records if r["actor"] == "alice" and r["kind"] == "severity_changed")
    assert lowered["reason"] == HUMAN_REASON
    posted = [json.loads(r["details"]) for r in records if r["kind"] == "update_posted"]
    assert posted[1]["body_en"] == HUMAN_UPDATE["en"]


async def test_a_manual_incident_reports_what_was_filed(
    database: Database, clock: FakeClock
) -> None:
    incident_id = await manual_incident(database, clock)
    report = await load_report(database, incident_id, now=clock.now())
    assert report is not None
    md = render(report, "md", zone=ZoneInfo("UTC"))
    assert "| Origin | opened by a person (手動起票) |" in md
    assert "| Cause category | external (外部要因) — market volatility |" in md
    assert "| What is wrong | Withdrawals of BTC \\| stuck since 09:00 |" in md
    assert "| How to reproduce | 1. Request a withdrawal<br>2. It stays pending |" in md
    assert f"| Reporter | {MANUAL_REPORT['reporter']} |" in md
    assert f"| Contact | {MANUAL_REPORT['contact']} |" in md
    assert "> BTC withdrawals only; about 120 customers" in md
    assert "| Detected | 2026-11-21 09:00:00 +00:00 (when it was reported; no alert) |" in md
    assert "| Incident start | 2026-11-21 08:30:00 +00:00 |" in md
    assert "| MTTR (detection → resolution) | — |" in md
    assert "| btc-withdrawals | btc-withdrawals | btc-withdrawals(ja) | partial_outage |" in md
    assert "| a_kind_from_the_future | carol |  |  | nested: {x: 1, 2} |" in md
    csv_rows = list(csv.reader(io.StringIO(render(report, "csv", zone=ZoneInfo("UTC")))))
    assert json.loads(csv_rows[-1][-1]) == {"nested": {"x": [1, 2]}}


async def test_an_unknown_incident_has_no_report(database: Database, clock: FakeClock) -> None:
    assert await load_report(database, 42, now=clock.now()) is None
