"""The snapshot's documents carry their security headers from publish time, on both front doors:
the ASGI middleware and the uvicorn protocol that answers on the connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send

from monitor.security.policy import PLAIN_HEADERS, source_hash
from monitor.views import Branding, SiteView, StatusView
from statuspage import SnapshotStore
from statuspage.fast_protocol import snapshot_protocol
from statuspage.html import brand_css
from tests.export.support import app_serving, incident, view
from tests.security.support import directives, inline_style_hashes

BOUND = 10.0
BRANDED = SiteView(
    "demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"),
    Branding(logo_url="https://cdn.example.net:8443/logo.svg", brand_color="#0052cc"),
)  # fmt: skip
PATHS = ("/", "/incidents/1", "/api/v2/summary.json", "/static/style.css", "/history.rss")


def branded(site: SiteView = BRANDED) -> StatusView:
    """A page with incident 1 on ``site``."""
    return replace(view(incident(1)), site=site)


def published(page: StatusView) -> SnapshotStore:
    store = SnapshotStore()
    store.publish(page)
    return store


async def test_every_document_has_the_policy_allowing_the_brand_style_by_hash() -> None:
    store = published(branded())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_serving(store)), base_url="http://t"
    ) as client:
        page = await client.get("/", headers={"accept-encoding": "gzip"})
        answers = [await client.get(path) for path in PATHS]
    assert page.headers["content-encoding"] == "gzip"  # the gzip form carries them too
    policy = directives(page.headers["content-security-policy"])
    assert policy["style-src"] == ["'self'", *inline_style_hashes(page.text)]
    assert policy["style-src"][1] == source_hash(str(brand_css(BRANDED.branding)))
    assert policy["img-src"] == ["'self'", "data:", "https://cdn.example.net:8443"]
    assert policy["script-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    for answer in answers:
        assert answer.status_code == 200, answer.url
        assert answer.headers["content-security-policy"] == page.headers["content-security-policy"]
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"]


def test_a_plain_http_site_without_branding_has_no_hsts_and_no_inline_style() -> None:
    store = published(branded(replace(BRANDED, url="http://status.example", branding=Branding())))
    document = store.get("/", "en")
    assert document is not None
    headers = dict(document.identity.headers)
    assert b"strict-transport-security" not in headers
    assert b"<style>" not in document.body
    policy = directives(headers[b"content-security-policy"].decode())
    assert policy["style-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"]


def test_a_new_brand_colour_changes_the_hash_and_unchanged_documents_are_not_recompressed() -> None:
    store = published(branded())
    before = store.get("/api/v2/summary.json", "en")
    style_before = store.get("/static/style.css", "en")
    store.publish(branded(replace(BRANDED, branding=Branding(brand_color="#d4a000"))))
    after, page = store.get("/api/v2/summary.json", "en"), store.get("/", "en")
    assert before is not None and after is not None and page is not None
    assert style_before is not None
    policy = directives(dict(page.identity.headers)[b"content-security-policy"].decode())
    assert policy["style-src"][1:] == inline_style_hashes(page.body.decode())
    csp = b"content-security-policy"
    assert dict(after.identity.headers)[csp] == dict(page.identity.headers)[csp]
    assert after.body is before.body and after.etag == before.etag  # same bytes, new headers
    assert after.gzip is not None and before.gzip is not None
    assert after.gzip.body is before.gzip.body  # not compressed again
    style_after = store.get("/static/style.css", "en")
    assert style_after is not None and style_after.identity.headers != style_before.identity.headers


async def refuse_everything(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the protocol: any answer it gives is a 418, so a 200 came from the protocol."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def fast(store: SnapshotStore) -> AsyncIterator[int]:
    """uvicorn with the snapshot protocol in front of ``refuse_everything``; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        refuse_everything, host="127.0.0.1", port=port, http=snapshot_protocol(store),
        lifespan="off", log_level="warning", access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(int(BOUND * 100)):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, BOUND)


async def raw_get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, list[str]]]:
    """Send one request on a new connection; return the status and the headers (by name)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND)
    finally:
        writer.close()
    status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.lower(), []).append(value.strip())
    return int(status_line.split()[1]), headers


async def test_the_fast_protocol_serves_the_same_headers_from_the_snapshot() -> None:
    store = published(branded())
    expected = dict(store.get("/", "en").identity.headers)  # type: ignore[union-attr]
    async with fast(store) as port:
        for path in PATHS:
            status, headers = await raw_get(port, path)
            assert status == 200, path
            for name in (b"content-security-policy", b"strict-transport-security",
                         b"x-frame-options", b"referrer-policy", b"x-content-type-options"):  # fmt: skip
                assert headers[name.decode()] == [expected[name].decode()], (path, name)
        status, headers = await raw_get(port, "/", method="DELETE")  # the snapshot's 405
    assert status == 405
    for name, value in PLAIN_HEADERS:
        assert headers[name.decode()] == [value.decode()]
