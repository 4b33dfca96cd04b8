"""Security headers on everything the app renders per request, and on the public documents it
serves from the snapshot through ASGI: on SQLite and PostgreSQL, over the whole app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from monitor.security.policy import source_hash
from monitor.storage.database import Database
from tests.security.support import ADMIN, Served, directives, inline_style_hashes, served
from tests.support import FakeClock

STRICT = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
}
BARE = {
    "default-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
}


@pytest.fixture
async def app(database: Database, clock: FakeClock) -> AsyncIterator[Served]:
    async with served(database, clock) as running:
        yield running


def assert_secured(response: httpx.Response, *, referrer: str) -> dict[str, list[str]]:
    """Check the headers every answer carries; return its policy's directives."""
    headers = response.headers
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") == referrer, where
    assert headers.get("strict-transport-security") == "max-age=31536000", where
    assert len(headers.get_list("content-security-policy")) == 1, where
    policy = directives(headers["content-security-policy"])
    for name, sources in STRICT.items():
        assert policy.get(name) == sources, (where, name, policy.get(name))
    assert policy["img-src"] == ["'self'", "data:", "https://cdn.example.net"], where
    return policy


async def test_public_documents_allow_exactly_their_inline_brand_style(app: Served) -> None:
    async with app.client() as client:
        page = await client.get("/?lang=en")
        assert page.status_code == 200
        policy = assert_secured(page, referrer="strict-origin-when-cross-origin")
        (brand,) = inline_style_hashes(page.text)  # the brand colours, from the config
        assert policy["style-src"] == ["'self'", brand]
        assert "--brand:#0052cc" in page.text
        for path in ("/incidents/1", "/history", "/api/v2/summary.json", "/static/style.css",
                     "/history.atom", "/badge.svg"):  # fmt: skip
            answer = await client.get(path)
            assert answer.status_code == 200, path
            assert assert_secured(answer, referrer="strict-origin-when-cross-origin") == policy


async def test_a_304_and_the_snapshots_plain_answers_are_secured_too(app: Served) -> None:
    async with app.client() as client:
        page = await client.get("/")
        again = await client.get("/", headers={"if-none-match": page.headers["etag"]})
        assert again.status_code == 304
        assert "content-security-policy" not in again.headers  # the cached 200's headers apply
        missing = await client.get("/incidents/99999")  # the snapshot's own 404 and 405
        posted = await client.post("/history")
    assert (missing.status_code, posted.status_code) == (404, 405)
    for answer in (missing, posted):
        assert directives(answer.headers["content-security-policy"]) == BARE
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


async def test_admin_json_and_its_refusals_are_secured(app: Served) -> None:
    async with app.client() as client:
        listed = await client.get(
            "/api/admin/incidents", headers={"authorization": f"Bearer {ADMIN}"}
        )
        assert listed.status_code == 200 and isinstance(listed.json(), dict | list)
        assert_secured(listed, referrer="no-referrer")
        refused = await client.get("/api/admin/incidents")
        assert refused.status_code == 401
        assert_secured(refused, referrer="no-referrer")
        invalid = await client.get(
            "/api/admin/incidents?state=nope", headers={"authorization": f"Bearer {ADMIN}"}
        )
        assert invalid.status_code == 422
        assert_secured(invalid, referrer="no-referrer")


async def test_subscribe_and_ack_pages_are_secured_and_have_no_inline_style(app: Served) -> None:
    async with app.client() as client:
        for path, status in (
            ("/subscribe?lang=en", 200),
            ("/subscribe/sent?lang=en", 200),
            ("/subscribe/confirm?token=forged", 400),
            ("/subscriptions/manage?token=forged", 400),
            ("/ack?token=forged", 400),
        ):
            answer = await client.get(path)
            assert answer.status_code == status, path
            policy = assert_secured(answer, referrer="no-referrer")
            assert policy["style-src"] == ["'self'"], path
            assert "<style" not in answer.text and " style=" not in answer.text, path
            assert '<link rel="stylesheet" href="/static/style.css">' in answer.text, path


async def test_unknown_paths_and_the_console_are_secured(app: Served) -> None:
    async with app.client() as client:
        for path in (
            "/nope",
            "/api/nope",
            "/console",
            "/console/nope",
            "/healthz",
            "/openapi.json",
        ):
            answer = await client.get(path)
            assert answer.status_code < 500, path
            assert_secured(answer, referrer="no-referrer")


async def test_swagger_ui_gets_its_own_policy_pinning_its_inline_script(app: Served) -> None:
    async with app.client() as client:
        docs = await client.get("/api/docs")
    assert docs.status_code == 200
    policy = directives(docs.headers["content-security-policy"])
    scripts = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert len(scripts) == 1
    assert policy["script-src"] == ["https://cdn.jsdelivr.net", source_hash(scripts[0])]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["connect-src"] == ["'self'"]
    assert docs.headers["x-frame-options"] == "DENY"
    assert docs.headers["content-length"] == str(len(docs.content))
