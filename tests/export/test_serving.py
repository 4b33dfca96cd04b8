"""Serving the snapshot: ETag and 304, gzip negotiation, caching headers, HEAD, 404, 405, 503."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from statuspage import SnapshotStore, build_router, snapshot
from statuspage.routes import NEGOTIATIONS_REMEMBERED, Negotiator, accepts_gzip, etag_matches
from statuspage.snapshot import ASSET_CACHE, PAGE_CACHE, STYLE_PATH, Rendered
from tests.export.support import app_serving, incident, published, view

PAGE_VARY = "Accept-Language, Accept-Encoding"


async def fetch(
    store: SnapshotStore, path: str, method: str = "GET", **headers: str
) -> httpx.Response:
    """Send one request to an app serving ``store``; ``accept_encoding=None`` sends no header."""
    transport = httpx.ASGITransport(app=app_serving(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        request = client.build_request(method, path, headers=headers)
        if headers.get("accept-encoding") == "-":
            del request.headers["accept-encoding"]
        return await client.send(request)


async def test_every_document_carries_etag_caching_and_vary() -> None:
    store = published(incident(3))
    paths = {path for path, language, _ in store.documents() if language is not None}
    assert {
        "/",
        "/incidents/3",
        "/api/v2/summary.json",
        "/api/v2/incidents/unresolved.json",
    } <= paths
    for path in sorted(paths):
        for language in ("ja", "en"):
            response = await fetch(store, f"{path}?lang={language}")
            document = store.get(path, language)
            assert response.status_code == 200, path
            assert document is not None and response.content == document.body
            assert response.headers["cache-control"] == PAGE_CACHE
            assert response.headers["vary"] == PAGE_VARY
            assert response.headers["content-language"] == language
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["etag"].startswith('"')


async def test_the_language_comes_from_the_query_then_accept_language_then_the_default() -> None:
    store = published()
    assert (await fetch(store, "/")).headers["content-language"] == "ja"
    assert (await fetch(store, "/", **{"accept-language": "en-GB,en;q=0.9"})).headers[
        "content-language"
    ] == "en"
    english = await fetch(store, "/?lang=en", **{"accept-language": "ja"})
    assert english.headers["content-language"] == "en" and '<html lang="en">' in english.text
    assert (await fetch(store, "/?lang=fr")).headers["content-language"] == "ja"


@pytest.mark.parametrize(
    ("accept", "compressed"),
    [("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.5", True), ("*", True),
     ("x-gzip", True), ("identity", False), ("gzip;q=0", False), ("deflate, br", False),
     ("*;q=0", False), ("-", False), ("", False)],
)  # fmt: skip
async def test_gzip_is_sent_only_when_accepted(accept: str, compressed: bool) -> None:
    store = published(incident(3))
    document = store.get("/", "ja")
    assert document is not None and document.gzip is not None
    response = await fetch(store, "/", **{"accept-encoding": accept})
    assert response.status_code == 200 and response.content == document.body  # httpx decodes
    if compressed:
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-length"] == str(len(document.gzip.body))
        assert response.headers["etag"] == document.gzip.etag != document.etag
        assert gzip.decompress(document.gzip.body) == document.body
    else:
        assert "content-encoding" not in response.headers
        assert response.headers["content-length"] == str(len(document.body))
        assert response.headers["etag"] == document.etag


async def test_a_known_etag_gets_304_in_strong_weak_and_list_forms() -> None:
    store = published()
    first = await fetch(store, "/", **{"accept-encoding": "gzip"})
    tag = first.headers["etag"]
    for condition in (tag, f"W/{tag}", f'"nope", {tag}', f'W/"nope" , W/{tag}', "*"):
        again = await fetch(store, "/", **{"accept-encoding": "gzip", "if-none-match": condition})
        assert again.status_code == 304, condition
        assert again.content == b""
        assert again.headers["etag"] == tag
        assert again.headers["cache-control"] == PAGE_CACHE and again.headers["vary"] == PAGE_VARY
    other = await fetch(store, "/", **{"accept-encoding": "gzip", "if-none-match": '"nope"'})
    assert other.status_code == 200 and other.content


async def test_the_etag_of_one_encoding_does_not_validate_the_other() -> None:
    store = published()
    identity = await fetch(store, "/", **{"accept-encoding": "identity"})
    zipped = await fetch(
        store, "/", **{"accept-encoding": "gzip", "if-none-match": identity.headers["etag"]}
    )
    assert zipped.status_code == 200 and zipped.headers["content-encoding"] == "gzip"


async def test_a_new_snapshot_changes_the_etag() -> None:
    store = published()
    before = await fetch(store, "/api/v2/summary.json")
    store.publish(view(incident(4)))
    after = await fetch(store, "/api/v2/summary.json", **{"if-none-match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert after.json()["status"]["indicator"] == "critical"


async def test_head_sends_the_headers_without_the_body() -> None:
    store = published()
    document = store.get("/", "ja")
    assert document is not None
    head = await fetch(store, "/", "HEAD", **{"accept-encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(document.body))
    assert head.headers["etag"] == document.etag and head.headers["cache-control"] == PAGE_CACHE
    cached = await fetch(
        store, "/", "HEAD", **{"accept-encoding": "identity", "if-none-match": document.etag}
    )
    assert cached.status_code == 304


async def test_unknown_paths_are_404_and_other_methods_405() -> None:
    store = published(incident(3))
    for path in ("/incidents/999", "/api/v2/nothing.json", "/nothing"):
        assert (await fetch(store, path)).status_code == 404, path
        assert (await fetch(store, path, "HEAD")).status_code == 404, path
    slash = await fetch(store, "/incidents/3/")
    assert slash.status_code == 307 and slash.headers["location"].endswith("/incidents/3")
    posted = await fetch(store, "/", "POST")
    assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"


async def test_before_the_first_snapshot_pages_are_503_with_retry_after() -> None:
    store = SnapshotStore()
    for path in ("/", "/api/v2/summary.json", "/incidents/1", "/history.atom"):
        response = await fetch(store, path)
        assert response.status_code == 503, path
        assert (
            response.headers["retry-after"] == "5"
            and response.headers["cache-control"] == "no-store"
        )
        assert "starting" in response.text
    health = await fetch(store, "/healthz")
    assert health.status_code == 200 and health.json() == {"ok": False}
    assert (await fetch(store, STYLE_PATH)).status_code == 200


async def test_the_stylesheet_has_a_long_cache_and_an_etag() -> None:
    store = SnapshotStore()
    css = await fetch(store, STYLE_PATH, **{"accept-encoding": "gzip"})
    assert css.status_code == 200 and "prefers-color-scheme" in css.text
    assert css.headers["cache-control"] == ASSET_CACHE and css.headers["vary"] == "Accept-Encoding"
    assert (
        css.headers["content-type"].startswith("text/css") and "content-language" not in css.headers
    )
    assert css.headers["content-encoding"] == "gzip"
    again = await fetch(
        store, STYLE_PATH, **{"accept-encoding": "gzip", "if-none-match": css.headers["etag"]}
    )
    assert again.status_code == 304


async def test_a_new_document_is_served_with_no_new_route(monkeypatch: pytest.MonkeyPatch) -> None:
    render = snapshot._render_language

    def with_feed(*args: Any, **kwargs: Any) -> dict[str, tuple[bytes, str]]:
        extra = {"/history.atom": (b"<feed/>" * 100, "application/atom+xml")}
        return render(*args, **kwargs) | extra

    monkeypatch.setattr(snapshot, "_render_language", with_feed)
    store = published()
    feed = await fetch(store, "/history.atom?lang=en")
    assert feed.status_code == 200 and feed.content == b"<feed/>" * 100
    assert feed.headers["content-type"] == "application/atom+xml"
    assert (
        feed.headers["content-encoding"] == "gzip" and feed.headers["cache-control"] == PAGE_CACHE
    )


def test_unchanged_documents_keep_their_rendering_across_publishes() -> None:
    store = published()
    before = store.get("/api/v2/components.json", "en")
    store.publish(view(minutes=1))
    assert store.get("/api/v2/components.json", "en") is before
    assert store.get("/", "en") is not None


def test_small_documents_are_not_compressed() -> None:
    assert Rendered.of(b"{}", "application/json").gzip is None
    assert Rendered.of(b"a" * 1000, "application/json").gzip is not None


def test_header_parsers() -> None:
    assert etag_matches(b'W/"a", "b"', '"b"') and etag_matches(b" * ", '"x"')
    assert not etag_matches(b'"a"', '"b"')
    assert accepts_gzip("gzip;q=0.001") and not accepts_gzip("gzip; q=0, *")
    assert not accepts_gzip("gzip;q=nonsense")


def test_the_negotiation_cache_stays_bounded() -> None:
    negotiator = Negotiator()
    for number in range(NEGOTIATIONS_REMEMBERED * 3):
        assert negotiator.language(None, f"en-{number}".encode(), ("ja", "en")) == "en"
        negotiator.gzip(f"gzip;q=0.{number}".encode())
    assert len(negotiator._languages) <= NEGOTIATIONS_REMEMBERED
    assert len(negotiator._gzip) <= NEGOTIATIONS_REMEMBERED


async def test_the_router_alone_gives_the_same_answers_for_the_known_paths() -> None:
    store = published(incident(3))
    application = FastAPI()
    application.include_router(build_router(store))
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/", "/incidents/3?lang=en", "/api/v2/summary.json", STYLE_PATH):
            routed = await client.get(path, headers={"accept-encoding": "gzip"})
            reference = await fetch(store, path, **{"accept-encoding": "gzip"})
            assert routed.status_code == 200 and routed.content == reference.content, path
            assert {
                k: routed.headers[k] for k in ("etag", "vary", "cache-control", "content-encoding")
            } == {
                k: reference.headers[k]
                for k in ("etag", "vary", "cache-control", "content-encoding")
            }
        assert (await client.get("/api/v2/nothing.json")).status_code == 404
        assert "/api/v2/{name}" in (await client.get("/openapi.json")).json()["paths"]
    unready = FastAPI()
    unready.include_router(build_router(SnapshotStore()))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=unready), base_url="http://test"
    ) as client:
        assert (await client.get("/")).status_code == 503
        assert (await client.get("/api/v2/summary.json")).status_code == 503
