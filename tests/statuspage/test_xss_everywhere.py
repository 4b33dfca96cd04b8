"""Markup a responder types, or an operator puts in the config, is text on every public surface.

An incident opened by hand through the responder has a title and updates holding
``<script>alert(1)</script>``, double and single quotes and a literal ``&amp;``; the site and one
component are named the same way in the config. Served by the app from a real database and
written by ``exwatch export``, that text must come out escaped (HTML, feeds, badges) or exactly
itself (JSON, feeds read back): never markup, never escaped twice. The renderers' own tests
(tests/history, tests/statuspage/test_maintenance_html.py) feed hand-built read models; these
go through storage, the snapshot, the routes and the CLI.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser  # type: ignore[import-untyped]
import httpx
import pytest
import yaml
from typer.testing import CliRunner

from monitor.config import parse_config
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.statuspage.test_api_shapes_reference import (
    OPEN_ON,
    config_document,
    fetch,
    start_services,
    tell_story,
)
from tests.support import FakeClock

EVIL = "<script>alert(1)</script> \"quotes\" 'single' &amp;"
TITLE = {"ja": f"障害 {EVIL}", "en": f"Outage {EVIL}"}
BODY = {"ja": f"本文 {EVIL}", "en": f"Body {EVIL}"}
SITE_NAME = f"Acme {EVIL}"
LANGUAGES = ("ja", "en")
# What each feed puts before an update's title: the open incident's two updates, newest first.
PREFIXES = {"ja": ("【経過観察中】", "【調査中】"), "en": ("[Monitoring] ", "[Investigating] ")}
FEED_TITLES = {"ja": f"{SITE_NAME} 障害・メンテナンス情報", "en": f"{SITE_NAME} status history"}
COMPONENT_SEPARATOR = {"ja": "：", "en": ": "}  # before the component's name in its feed's title
SVG_NS = "{http://www.w3.org/2000/svg}"


def evil_config_document() -> dict[str, Any]:
    """The shapes test's catalog with the site and the incident's component named ``EVIL``."""
    document = config_document(site={"name": SITE_NAME, "languages": list(LANGUAGES)})
    for item in document["components"]:
        if item["id"] == OPEN_ON:
            item["names"] = {"ja": EVIL, "en": EVIL}
    return document


class Markup(HTMLParser):
    """What a browser makes of a page: its elements and the text it shows."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attributes: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [value for _, value in attrs if value is not None]

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def shows(self, words: str) -> bool:
        """True when ``words`` is shown as text (within one run of text)."""
        return any(words in run for run in self.text)


def html_paths(open_id: int) -> list[str]:
    return ["/", f"/incidents/{open_id}", "/history"]


JSON_PATHS = ["summary.json", "incidents.json", "incidents/unresolved.json"]
FEED_PATHS = [
    "/history.atom",
    "/history.rss",
    f"/components/{OPEN_ON}/history.atom",
    f"/components/{OPEN_ON}/history.rss",
]
BADGE_PATHS = [f"/components/{OPEN_ON}/badge.svg", "/badge.svg"]


@dataclass(frozen=True)
class World:
    open_id: int
    served: dict[str, httpx.Response]  # by path with ?lang=
    exported: Path
    export_output: str


async def _serve(database_url: str) -> tuple[int, dict[str, httpx.Response]]:
    database = Database(database_url)
    try:
        await upgrade(database)
        clock = FakeClock()
        config = parse_config(yaml.safe_dump(evil_config_document(), allow_unicode=True))
        services = await start_services(database, clock, config)
        story = await tell_story(services, clock, title=TITLE, body=BODY)
        paths = [
            *html_paths(story.open_id),
            *(f"/api/v2/{path}" for path in JSON_PATHS),
            *FEED_PATHS,
            *BADGE_PATHS,
        ]
        return story.open_id, await fetch(
            services, [f"{path}?lang={language}" for path in paths for language in LANGUAGES]
        )
    finally:
        await database.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One database written by the responder, served by the app, then exported by the CLI."""
    from monitor.cli import app as cli

    root = tmp_path_factory.mktemp("xss")
    url = f"sqlite+aiosqlite:///{root / 'exwatch.db'}"
    open_id, served = asyncio.run(_serve(url))
    config = root / "exwatch.yaml"
    config.write_text(yaml.safe_dump(evil_config_document(), allow_unicode=True))
    out = root / "site"
    result = CliRunner().invoke(
        cli,
        ["export", "--config", str(config), "--out", str(out)],
        env={"EXWATCH_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    return World(open_id, served, out, result.output)


def answer(world: World, path: str, language: str) -> httpx.Response:
    response = world.served[f"{path}?lang={language}"]
    assert response.status_code == 200, (path, language)
    return response


def assert_page_is_safe(page: str, language: str, *, body_shown: bool, where: str) -> None:
    """No script element; the title (and the update, if shown) read as the text typed."""
    markup = Markup(page)
    assert "script" not in markup.tags, where
    assert "<script>alert" not in page, where
    assert markup.shows(TITLE[language]), f"{where}: the title is not shown as typed"
    assert markup.shows(SITE_NAME), f"{where}: the site name is not shown as typed"
    if body_shown:
        assert markup.shows(BODY[language]), f"{where}: the update is not shown as typed"
    # Escaped once: the literal "&amp;" arrives as "&amp;amp;", never as "&amp;lt;" (twice).
    assert "&amp;amp;" in page and "&amp;lt;" not in page and "&amp;#" not in page, where


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("which", ["index", "incident", "history"])
def test_html_pages_show_the_text_escaped(world: World, which: str, language: str) -> None:
    path = dict(zip(["index", "incident", "history"], html_paths(world.open_id), strict=True))[
        which
    ]
    response = answer(world, path, language)
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}">' in response.text
    assert_page_is_safe(
        response.text, language, body_shown=which != "history", where=f"{path}?lang={language}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_incident_page_shows_every_update_escaped(world: World, language: str) -> None:
    page = answer(world, f"/incidents/{world.open_id}", language).text
    shown = Markup(page)
    assert sum(run.count(BODY[language]) for run in shown.text) == 2  # both updates
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quotes&#34; &#39;single&#39; &amp;amp;" in page
    )
    assert all("<script" not in value for value in shown.attributes)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", JSON_PATHS)
def test_json_round_trips_to_the_exact_text(world: World, path: str, language: str) -> None:
    response = answer(world, f"/api/v2/{path}", language)
    assert response.headers["content-type"] == "application/json"
    # The text stays raw inside JSON strings; no browser may sniff the document as HTML.
    assert response.headers["x-content-type-options"] == "nosniff"
    document = json.loads(response.content)
    assert document["page"]["name"] == SITE_NAME
    [item] = [i for i in document["incidents"] if i["id"] == str(world.open_id)]
    assert item["name"] == TITLE[language]
    assert [u["body"] for u in item["incident_updates"]] == [BODY[language], BODY[language]]
    assert [c["name"] for c in item["components"] if c["id"] == OPEN_ON] == [EVIL]


@pytest.mark.parametrize("language", LANGUAGES)
def test_component_lists_round_trip_the_configured_name(world: World, language: str) -> None:
    summary = json.loads(answer(world, "/api/v2/summary.json", language).content)
    [named] = [c for c in summary["components"] if c["id"] == OPEN_ON]
    assert named["name"] == EVIL


def parse_feed(raw: bytes) -> Any:
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def assert_feed_reads_back(raw: bytes, path: str, language: str, open_id: int) -> None:
    """Well-formed, no script element, and the titles and texts read back as typed."""
    assert b"<script" not in raw, path
    parsed = parse_feed(raw)
    expected_title = FEED_TITLES[language]
    if path.startswith("/components/"):
        expected_title += COMPONENT_SEPARATOR[language] + EVIL
    assert parsed.feed.title == expected_title
    entries = [
        e for e in parsed.entries if re.search(rf"/incidents/{open_id}\b[^/]*#update-", e.id)
    ]
    newest, first = PREFIXES[language]
    assert [e.title for e in entries] == [newest + TITLE[language], first + TITLE[language]]
    for entry in entries:
        if path.endswith(".atom"):  # type="text": the reader gets the literal text
            assert (
                entry.content[0].type == "text/plain" and entry.content[0].value == BODY[language]
            )
        else:  # RSS descriptions are HTML: the text arrives escaped and shows as itself
            assert "<script" not in entry.summary and unescape(entry.summary) == BODY[language]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", FEED_PATHS)
def test_feeds_parse_back_to_the_exact_text(world: World, path: str, language: str) -> None:
    assert_feed_reads_back(answer(world, path, language).content, path, language, world.open_id)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_component_badge_shows_the_configured_name_as_text(world: World, language: str) -> None:
    raw = answer(world, f"/components/{OPEN_ON}/badge.svg", language).content
    assert b"<script" not in raw
    root = ElementTree.fromstring(raw)  # well-formed XML
    assert not list(root.iter(f"{SVG_NS}script")) and not list(root.iter("script"))
    title = root.find(f"{SVG_NS}title")
    assert title is not None and title.text is not None and title.text.startswith(f"{EVIL}: ")
    assert root.get("aria-label") == title.text
    assert [t.text for t in root.iter(f"{SVG_NS}text")][:2] == [EVIL, EVIL]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_badge_is_well_formed(world: World, language: str) -> None:
    raw = answer(world, "/badge.svg", language).content
    root = ElementTree.fromstring(raw)
    assert b"<script" not in raw and root.tag == f"{SVG_NS}svg"


# --- the static export ------------------------------------------------------------------------


def exported(world: World, suffix: str) -> list[Path]:
    files = sorted(p for p in world.exported.rglob(f"*{suffix}") if p.is_file())
    assert files, f"the export wrote no {suffix} file"
    return files


def test_the_export_wrote_the_incident_in_every_language_tree(world: World) -> None:
    for tree, language in (("", "ja"), ("ja/", "ja"), ("en/", "en")):
        page = (world.exported / f"{tree}incidents/{world.open_id}/index.html").read_text()
        assert_page_is_safe(page, language, body_shown=True, where=f"{tree}incidents")


def test_no_exported_html_file_holds_a_script(world: World) -> None:
    for path in exported(world, ".html"):
        page = path.read_text()
        assert "<script>alert" not in page, path
        assert "script" not in Markup(page).tags, path
        assert "&amp;lt;" not in page, path  # never escaped twice


def test_every_exported_json_file_round_trips(world: World) -> None:
    names: dict[str, set[str]] = {}
    for path in exported(world, ".json"):
        document = json.loads(path.read_bytes())
        assert document["page"]["name"] == SITE_NAME, path
        for item in document.get("incidents", []):
            if item["id"] == str(world.open_id):
                names.setdefault(path.relative_to(world.exported).as_posix(), set()).add(
                    item["name"]
                )
                assert {u["body"] for u in item["incident_updates"]} <= set(BODY.values())
    assert names["api/v2/incidents.json"] == {TITLE["ja"]}  # the root is the default language
    assert names["en/api/v2/incidents.json"] == {TITLE["en"]}
    assert names["ja/api/v2/summary.json"] == {TITLE["ja"]}


def test_exported_feeds_and_badges_hold_no_script(world: World) -> None:
    for suffix in (".atom", ".rss", ".svg"):
        for path in exported(world, suffix):
            raw = path.read_bytes()
            assert b"<script" not in raw, path
            if suffix == ".svg":
                ElementTree.fromstring(raw)
            else:
                parse_feed(raw)
    raw = (world.exported / "en/history.atom").read_bytes()
    assert parse_feed(raw).feed.title == FEED_TITLES["en"]
