"""Properties of the report writers on arbitrary text: CSV round-trips, Markdown keeps its shape."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.report import as_file, render
from monitor.report.as_csv import COLUMNS, unguard
from monitor.report.facts import IncidentReport, build_report
from monitor.report.markdown_text import cell, one_line, quoted, table
from monitor.report.wording import duration_text, local_time
from monitor.storage.timeline_reads import (
    EventRow,
    IncidentRecord,
    UpdateRow,
)

markdown_it = pytest.importorskip("markdown_it")
MARKDOWN = markdown_it.MarkdownIt("commonmark").enable("table")
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")
# Any text a person might type, markup characters and every kind of line break included;
# NUL is left out as the databases refuse it and CommonMark replaces it.
texts = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
    st.text("\\`*_[]<>|~#+-=.)(!&;:/ \n\r\t019aZ"),  # mostly Markdown's own characters
)


def incident(**changes: object) -> IncidentRecord:
    values: dict[str, object] = dict(
        id=7, name_ja="取引の停止", name_en="Trading halted", status="resolved",
        severity="critical", severity_reason="critical: trading", cause="system", origin="auto",
        started_at=T0, created_at=T0, updated_at=T0, resolved_at=T0 + timedelta(hours=1),
    )  # fmt: skip
    values.update(changes)
    return IncidentRecord(**values)  # type: ignore[arg-type]


def report_with(reasons: list[str], bodies: list[tuple[str, str]], actor: str) -> IncidentReport:
    updates = [
        UpdateRow(i + 1, "investigating", ja, en, T0 + timedelta(minutes=i))
        for i, (ja, en) in enumerate(bodies)
    ]
    events = [
        EventRow(i + 1, T0 + timedelta(seconds=i), "severity_changed", actor, incident_id=7,
                 reason=reason, data={"from": "minor", "to": "critical"})
        for i, reason in enumerate(reasons)
    ] + [
        EventRow(100 + u.id, u.created_at, "update_posted", actor, incident_id=7,
                 data={"update_id": u.id, "status": u.status})
        for u in updates
    ]  # fmt: skip
    return build_report(
        incident=incident(), components=[], alerts=[], updates=updates, events=events, now=T0
    )


@settings(max_examples=200)
@given(reasons=st.lists(texts, max_size=4), bodies=st.lists(st.tuples(texts, texts), max_size=3),
       actor=texts)  # fmt: skip
def test_the_csv_round_trips_through_csv_reader(
    reasons: list[str], bodies: list[tuple[str, str]], actor: str
) -> None:
    report = report_with(reasons, bodies, actor)
    text = as_file(render(report, "csv", zone=TOKYO), "csv").decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(header) == COLUMNS
    assert len(rows) == len(report.timeline)
    by_kind = [dict(zip(COLUMNS, [unguard(c) for c in row], strict=True)) for row in rows]
    assert [r["reason"] for r in by_kind if r["kind"] == "severity_changed"] == reasons
    assert all(r["actor"] == actor for r in by_kind)
    posted = [json.loads(r["details"]) for r in by_kind if r["kind"] == "update_posted"]
    assert [(d["body_ja"], d["body_en"]) for d in posted] == bodies


def test_a_cell_a_spreadsheet_would_run_is_defused() -> None:
    report = report_with(['=HYPERLINK("http://evil")', "'quoted", "plain"], [], "@admin")
    rows = list(csv.reader(io.StringIO(render(report, "csv", zone=TOKYO), newline="")))[1:]
    assert [row[6] for row in rows] == ['\'=HYPERLINK("http://evil")', "''quoted", "plain"]
    assert {row[2] for row in rows} == {"'@admin"}


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 10**6)), max_size=30))
def test_the_timeline_is_in_time_order_whatever_order_rows_come_in(
    stamps: list[tuple[int, int]],
) -> None:
    events = [
        EventRow(event_id, T0 + timedelta(seconds=offset), "x", "engine")
        for event_id, (offset, _) in enumerate(stamps, start=1)
    ]
    events.reverse()
    report = build_report(
        incident=incident(), components=[], alerts=[], updates=[], events=events, now=T0
    )
    keys = [(e.at, e.id) for e in report.timeline]
    assert keys == sorted(keys)


def cell_text(source: str) -> list[str]:
    """Return what a Markdown reader shows in each body cell of the one table in ``source``."""
    cells, inside_body = [], False
    for token in MARKDOWN.parse(source):
        inside_body = {"tbody_open": True, "tbody_close": False}.get(token.type, inside_body)
        if inside_body and token.type == "inline":
            cells.append(_shown(token.children or []))
    return cells


def _shown(children: list[object]) -> str:
    parts = []
    for child in children:
        kind, content = child.type, child.content  # type: ignore[attr-defined]
        line_break = kind in ("softbreak", "hardbreak") or (kind, content) == (
            "html_inline",
            "<br>",
        )
        parts.append("\n" if line_break else content)
    return "".join(parts)


@settings(max_examples=300)
@given(first=texts, second=texts)
def test_any_text_stays_in_its_table_cell(first: str, second: str) -> None:
    source = "\n".join(table(("A", "B", "C"), [(cell(first), cell(second), "end")]))
    expected = ["\n".join(line.strip() for line in t.strip().splitlines()) for t in (first, second)]
    assert cell_text(source) == [*expected, "end"]


def paragraphs(source: str) -> list[str]:
    return [
        _shown(token.children or []) for token in MARKDOWN.parse(source) if token.type == "inline"
    ]


@settings(max_examples=300)
@given(texts)
def test_quoted_text_keeps_its_lines_and_makes_no_markup(text: str) -> None:
    source = "\n".join(["Before:", "", *quoted(text), "", "After."])
    groups: list[str] = []
    current: list[str] = []
    for line in [*(line.strip() for line in text.splitlines()), ""]:
        if line:
            current.append(line)
        elif current:
            groups, current = [*groups, "\n".join(current)], []
    kinds = {t.type for t in MARKDOWN.parse(source)}
    assert kinds <= {"paragraph_open", "paragraph_close", "inline",
                     "blockquote_open", "blockquote_close"}  # fmt: skip
    assert paragraphs(source) == ["Before:", *groups, "After."]


@given(texts)
def test_a_title_is_one_heading(text: str) -> None:
    [open_, inline, _] = MARKDOWN.parse(f"# Report: {one_line(text)}")
    assert open_.type == "heading_open"
    flat = " ".join(part.strip() for part in text.splitlines()).strip()
    assert _shown(inline.children or []) == f"Report: {flat}".strip()


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0 s"), (45, "45 s"), (60, "1 min"), (200, "3 min 20 s"), (4980, "1 h 23 min"),
     (7200, "2 h"), (93_900, "1 d 2 h 5 min"), (-5, "0 s")],
)  # fmt: skip
def test_durations_read_like_people_write_them(seconds: int, words: str) -> None:
    assert duration_text(timedelta(seconds=seconds)) == words


def test_times_show_the_zone_offset() -> None:
    assert local_time(T0, TOKYO) == "2026-11-21 18:00:00 +09:00"
    assert local_time(T0, ZoneInfo("America/St_Johns")) == "2026-11-21 05:30:00 -03:30"
