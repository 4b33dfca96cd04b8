"""The report routes over HTTP on SQLite and PostgreSQL: JSON and form posts, limits, admin, privacy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from monitor.storage.database import Database
from monitor.storage.tables import alerts, timeline_events, user_reports
from tests.reports.support import AUTH, Served, reports_config, serve
from tests.support import FakeClock

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def served(database: Database, clock: FakeClock) -> AsyncIterator[Served]:
    async with serve(database, clock, reports_config()) as running:
        yield running


async def form_post(served: Served, fields: dict[str, str], **kwargs: Any) -> Any:
    return await served.call(
        "POST", "/api/reports", content=urlencode(fields), headers=FORM, **kwargs
    )


async def test_a_json_report_is_stored_cleaned(served: Served) -> None:
    response = await served.call(
        "POST", "/api/reports",
        json={"component": "login", "body": "  2FA codes \0rejected\n ", "contact": " a@b.example "},
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json() == {"received": True, "component": "login"}
    async with served.services.database.transaction() as session:
        [row] = (await session.execute(select(user_reports))).all()
    assert (row.body, row.contact, row.created_at) == (
        "2FA codes rejected", "a@b.example", served.clock.now(),
    )  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{64}", row.client) and "192.0.2.10" not in row.client


async def test_an_unknown_component_is_422_with_a_suggestion(served: Served) -> None:
    response = await served.report("logn")
    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "component"
    assert problem["error"] == "unknown component 'logn'; did you mean 'login'?"
    assert problem["valid"] == ["btc-withdrawals", "login", "website"]
    far = (await served.report("zzz")).json()["error"]
    assert far == "unknown component 'zzz' (known: login, website, btc-withdrawals)"
    assert await served.count(user_reports) == 0


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"component": "login", "body": " \0 \n"}, "body", "at least 1 character"),
        ({"component": "login", "body": "x" * 2001}, "body", "at most 2000 characters"),
        ({"component": "login", "body": "x", "contact": "c" * 201}, "contact", "at most 200"),
        ({"body": "x"}, "component", "Field required"),
        ({"component": 5, "body": "x"}, "component", "valid string"),
        ({"component": "login", "body": ["x"]}, "body", "valid string"),
        ([1, 2], "request body", "expected a JSON object"),
    ],
)
async def test_bad_fields_are_422_naming_the_field(
    served: Served, payload: Any, field: str, words: str
) -> None:
    response = await served.call("POST", "/api/reports", json=payload)
    assert response.status_code == 422
    assert response.json()["field"] == field and words in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "request body"),
        (b"component=login&body=x", {"content-type": "text/plain"}, 415, "content-type"),
        (b"component=login", {}, 415, "content-type"),
        (b"{}" + b" " * 40_000, {"content-type": "application/json"}, 413, "request body"),
        (b"a=1&" * 30, FORM, 400, "request body"),
    ],
)
async def test_unreadable_requests_are_4xx(
    served: Served, content: bytes, headers: dict[str, str], status: int, field: str
) -> None:
    response = await served.call("POST", "/api/reports", content=content, headers=headers)
    assert response.status_code == status
    if "json" in response.headers["content-type"]:
        assert response.json()["field"] == field


async def test_a_form_post_redirects_back_to_the_page(served: Served) -> None:
    fields = {"component": "btc-withdrawals", "body": "出金が反映されません", "contact": ""}
    response = await form_post(served, fields)
    assert response.status_code == 303 and response.headers["location"] == "/?reported=1#reported"
    back = await form_post(served, {**fields, "next": "/incidents/3?lang=ja#form"})
    assert back.headers["location"] == "/incidents/3?lang=ja&reported=1#reported"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await form_post(served, {**fields, "next": elsewhere})
        assert response.headers["location"] == "/?reported=1#reported"
    async with served.services.database.transaction() as session:
        rows = (await session.execute(select(user_reports.c.body, user_reports.c.contact))).all()
    assert {tuple(row) for row in rows} == {("出金が反映されません", None)}


async def test_a_bad_form_post_gets_a_page_naming_the_field(served: Served) -> None:
    response = await form_post(served, {"component": "<script>", "body": "x"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "unknown component &#x27;&lt;script&gt;&#x27;" in response.text
    assert "<script>" not in response.text


async def test_too_many_reports_from_one_address_are_429_with_retry_after(
    database: Database, clock: FakeClock
) -> None:
    config = reports_config()
    async with serve(database, clock, config) as served:
        for n in range(5):
            assert (await served.report(body=f"r{n}", address="192.0.2.7")).status_code == 201
        clock.advance(600)
        refused = await served.report(address="192.0.2.7")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "3000"
        assert "at most 5 reports per 1h" in refused.json()["error"]
        form = await form_post(served, {"component": "login", "body": "x"}, address="192.0.2.7")
        assert form.status_code == 429 and form.headers["retry-after"] == "3000"
        assert (await served.report(address="192.0.2.8")).status_code == 201  # others may
    clock.advance(1000)
    async with serve(database, clock, config) as restarted:  # a new process, empty memory
        again = await restarted.report(address="192.0.2.7")
        assert again.status_code == 429 and again.headers["retry-after"] == "2000"
        clock.advance(2000)
        assert (await restarted.report(address="192.0.2.7")).status_code == 201
    assert await restarted.count(user_reports) == 7


async def test_the_admin_list_needs_the_token(served: Served) -> None:
    assert (await served.call("GET", "/api/admin/reports")).status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert (await served.call("GET", "/api/admin/reports", headers=wrong)).status_code == 401


async def test_the_admin_list_shows_reports_and_counts(served: Served) -> None:
    await served.call(
        "POST", "/api/reports", json={"component": "login", "body": "old", "contact": "me@x"}
    )
    served.clock.advance(3600)
    await served.report("website", "site blank", address="192.0.2.20")
    await served.report("login", "new", address="192.0.2.21")
    listing = (await served.call("GET", "/api/admin/reports", headers=AUTH)).json()
    assert listing["counts"] == {"login": 2, "website": 1}
    assert listing["window"] == {
        "seconds": 600.0,
        "threshold": 5,
        "counts": {"login": 1, "website": 1},
    }
    assert [r["body"] for r in listing["reports"]] == ["new", "site blank", "old"]
    oldest = listing["reports"][-1]
    assert oldest["contact"] == "me@x" and re.fullmatch(r"[0-9a-f]{64}", oldest["client"])
    assert "192.0.2" not in str(listing)
    since = (served.clock.now().replace(minute=0) - served.clock.now().resolution).isoformat()
    only = await served.call(
        "GET", "/api/admin/reports", params={"component": "login", "since": since}, headers=AUTH
    )
    assert [r["body"] for r in only.json()["reports"]] == ["new"]
    assert only.json()["counts"] == {"login": 1}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-11-21T09:00:00"}, "since"),  # no time zone
        ({"since": "yesterday"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"component": "logn"}, "component"),
    ],
)
async def test_bad_admin_queries_are_422_naming_the_field(
    served: Served, params: dict[str, str], field: str
) -> None:
    response = await served.call("GET", "/api/admin/reports", params=params, headers=AUTH)
    assert response.status_code == 422
    assert field in response.text


async def test_reports_never_appear_publicly(served: Served) -> None:
    secret_body, secret_contact = "BODY-7f3a secret words", "CONTACT-9c2e@example.com"
    for n in range(5):
        payload = {"component": "login", "body": f"{secret_body} {n}", "contact": secret_contact}
        response = await served.call("POST", "/api/reports", json=payload, address=f"192.0.2.{n}")
        assert response.status_code == 201
    assert len(await served.user_report_alerts(alerts.c.status == "firing")) == 1
    await served.services.publisher.publish_now()
    for path in ("/", "/?lang=ja", "/api/v2/summary.json", "/api/v2/components.json",
                 "/api/v2/incidents.json", "/api/v2/status.json"):  # fmt: skip
        response = await served.call("GET", path)
        assert response.status_code in (200, 404), path
        for secret in ("BODY-7f3a", "CONTACT-9c2e", "192.0.2."):
            assert secret not in response.text, (path, secret)
    async with served.services.database.transaction() as session:
        events = (await session.execute(select(timeline_events))).all()
    assert "BODY-7f3a" not in str(events) and "CONTACT-9c2e" not in str(events)
