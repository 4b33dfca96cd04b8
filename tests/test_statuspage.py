"""The public page: Statuspage v2 shapes exactly, both languages, ETag revalidation, snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from monitor.app import build_services, create_app
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.storage.database import Database
from monitor.views import ComponentView, GroupView, IncidentView, SiteView, StatusView, UpdateView
from statuspage import api_v2
from statuspage.i18n import LANGUAGES, MESSAGES, choose_language
from statuspage.indicator import page_indicator
from tests.support import FAIL, START, FakeClock
from tests.test_engine import make_config

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
    "start_date", "group_id", "page_id", "group", "only_show_if_degraded",
}  # fmt: skip
INCIDENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
    "shortlink", "started_at", "page_id", "incident_updates", "components",
}  # fmt: skip
UPDATE_KEYS = {
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
    "affected_components", "deliver_notifications", "custom_tweet", "tweet_id",
}  # fmt: skip
SITE = SiteView("demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"))


def component(
    cid: str, status: ComponentStatus = ComponentStatus.OPERATIONAL, group: str | None = "g"
) -> ComponentView:
    return ComponentView(cid, {"ja": cid + "ja", "en": cid}, None, group, status, 0, START, START)


def incident(
    severity: Severity, status: IncidentStatus = IncidentStatus.INVESTIGATING
) -> IncidentView:
    update = UpdateView(7, 3, status, {"ja": "調査中です", "en": "Investigating"}, START)
    return IncidentView(
        3, {"ja": "障害", "en": "Outage"}, status, severity, "why", START, START, START, None,
        START + timedelta(minutes=90) if status == IncidentStatus.RESOLVED else None, ("a",), (update,),
    )  # fmt: skip


def view(*components: ComponentView, incidents: tuple[IncidentView, ...] = ()) -> StatusView:
    group = GroupView(
        "g",
        {"ja": "グループ", "en": "Group"},
        0,
        START,
        START,
        tuple(c.id for c in components if c.group_id == "g"),
    )
    return StatusView(SITE, START, (group,), components, incidents)


def test_summary_has_exactly_the_statuspage_fields() -> None:
    summary = api_v2.summary(view(component("a", ComponentStatus.MAJOR_OUTAGE), component("b", group=None),
                                  incidents=(incident(Severity.CRITICAL),)), "en")  # fmt: skip
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert set(summary["page"]) == PAGE_KEYS
    assert summary["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    group, member, loose = summary["components"]
    assert set(group) == COMPONENT_KEYS | {"components"} and group["group"] is True
    assert group["components"] == ["a"] and group["status"] == "major_outage"
    assert set(member) == COMPONENT_KEYS and member["group_id"] == "g"
    assert loose["id"] == "b" and loose["group_id"] is None
    [item] = summary["incidents"]
    assert set(item) == INCIDENT_KEYS
    assert item["impact"] == "critical" and item["id"] == "3"
    assert item["shortlink"] == "https://status.example/incidents/3"
    assert set(item["incident_updates"][0]) == UPDATE_KEYS
    assert item["created_at"] == "2026-11-21T18:00:00.000+09:00"


@pytest.mark.parametrize(
    ("components", "incidents", "indicator"),
    [
        ((ComponentStatus.OPERATIONAL,), (), "none"),
        ((ComponentStatus.UNDER_MAINTENANCE,), (), "none"),
        ((ComponentStatus.DEGRADED_PERFORMANCE,), (), "minor"),
        ((ComponentStatus.OPERATIONAL,), (Severity.MODERATE,), "major"),
        ((ComponentStatus.MAJOR_OUTAGE,), (Severity.MINOR, Severity.CRITICAL), "critical"),
    ],
)
def test_the_page_indicator_rule(
    components: tuple[ComponentStatus, ...], incidents: tuple[Severity, ...], indicator: str
) -> None:
    shown = view(
        *(component(f"c{i}", s) for i, s in enumerate(components)),
        incidents=tuple(incident(s) for s in incidents),
    )
    assert page_indicator(shown) == indicator


def test_a_resolved_incident_does_not_raise_the_indicator() -> None:
    assert (
        page_indicator(
            view(component("a"), incidents=(incident(Severity.CRITICAL, IncidentStatus.RESOLVED),))
        )
        == "none"
    )


def test_every_message_exists_in_every_language() -> None:
    missing = [
        f"{key}:{lang}"
        for key, texts in MESSAGES.items()
        for lang in LANGUAGES
        if not texts.get(lang)
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "ja"),
        ("en", "ja", "en"),
        ("fr", None, "ja"),
        (None, "en-US,en;q=0.9,ja;q=0.8", "en"),
        (None, "fr-FR, ja;q=0.5, en;q=0.4", "ja"),
        (None, "en;q=0, ja;q=0.1", "ja"),
        (None, "garbage;q=x", "ja"),
    ],
)
def test_language_choice(query: str | None, header: str | None, expected: str) -> None:
    assert choose_language(query, header, ("ja", "en")) == expected


@pytest.fixture
async def app(tmp_path: Any) -> AsyncIterator[FastAPI]:
    from monitor.storage.migrate import upgrade

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'page.db'}")
    await upgrade(database)
    application = create_app(build_services(make_config(), database, FakeClock()), run_checks=False)
    async with application.router.lifespan_context(application):
        yield application
    await database.close()


async def get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_pages_are_served_in_both_languages_with_etags(app: FastAPI) -> None:
    ja = await get(app, "/")
    en = await get(app, "/", **{"accept-language": "en-GB,en"})
    assert ja.status_code == en.status_code == 200
    assert '<html lang="ja">' in ja.text and "すべてのシステムが正常に稼働しています" in ja.text
    assert '<html lang="en">' in en.text and "All Systems Operational" in en.text
    assert en.headers["content-language"] == "en"
    assert en.headers["vary"] == "Accept-Language, Accept-Encoding"
    again = await get(app, "/", **{"accept-language": "en", "if-none-match": en.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_a_state_change_republishes_the_snapshot(app: FastAPI) -> None:
    before = (await get(app, "/api/v2/summary.json?lang=en")).json()
    assert before["status"]["indicator"] == "none" and before["incidents"] == []
    services = app.state.services
    check = next(c for c in services.config.checks if c.id == "trading-engine-check")
    await services.engine.ingest(check, FAIL)
    await services.engine.ingest(check, FAIL)
    await services.publisher.publish_now()
    after = (await get(app, "/api/v2/summary.json?lang=en")).json()
    assert after["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    [item] = after["incidents"]
    assert item["impact"] == "critical" and item["components"][0]["id"] == "trading-engine"
    page = await get(app, f"/incidents/{item['id']}?lang=ja")
    assert (
        page.status_code == 200
        and "重大" in page.text
        and "trading-engine(ja)の大規模障害" in page.text
    )
    status = (await get(app, "/api/v2/status.json")).json()
    assert set(status) == {"page", "status"} and status["status"]["indicator"] == "critical"


async def test_unknown_paths_are_404(app: FastAPI) -> None:
    assert (await get(app, "/incidents/999")).status_code == 404
    assert (await get(app, "/api/v2/nothing.json")).status_code == 404
    css = await get(app, "/static/style.css")
    assert css.status_code == 200 and "prefers-color-scheme" in css.text


async def test_every_statuspage_path_answers_and_head_works(app: FastAPI) -> None:
    for path in ("components.json", "incidents.json", "incidents/unresolved.json", "scheduled-maintenances.json",
                 "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json"):  # fmt: skip
        response = await get(app, f"/api/v2/{path}")
        assert response.status_code == 200, path
        assert "page" in response.json()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        head = await client.head("/")
    assert head.status_code == 200 and head.headers["etag"]


def test_incident_components_carry_the_same_positions_as_components_json() -> None:
    shown = view(
        component("a", ComponentStatus.MAJOR_OUTAGE),
        component("b"),
        incidents=(incident(Severity.CRITICAL),),
    )
    listed = {c["id"]: c for c in api_v2.components(shown, "en")}
    [item] = api_v2.incidents(shown, "en")
    assert item["components"] == [listed["a"]]
