"""The policy builders and the middleware, on their own."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

from monitor.security.middleware import SecurityHeadersMiddleware, install_security_headers
from monitor.security.policy import (
    SiteSecurity,
    content_security_policy,
    docs_policy,
    source_hash,
)
from tests.security.support import directives


@pytest.mark.parametrize(
    ("url", "logo", "expected"),
    [
        ("https://status.example.com", None, SiteSecurity(https=True)),
        ("HTTPS://status.example.com", "/logo.png", SiteSecurity(https=True)),
        ("http://127.0.0.1:8080", "https://CDN.example.net/a/logo.png?v=2",
         SiteSecurity(image_origins=("https://cdn.example.net",))),
        ("http://x", "http://user@[2001:db8::1]:8443/logo.png",
         SiteSecurity(image_origins=("http://[2001:db8::1]:8443",))),
        ("http://x", "https://evil;script-src/x.png", SiteSecurity()),  # cannot add a directive
        ("http://x", "https://a.example:port/x.png", SiteSecurity()),
    ],
)  # fmt: skip
def test_the_site_decides_hsts_and_the_logo_origin(
    url: str, logo: str | None, expected: SiteSecurity
) -> None:
    assert SiteSecurity.of(url, logo) == expected


def test_the_strict_policy_has_no_inline_script_and_only_the_given_style_hashes() -> None:
    policy = directives(content_security_policy(SiteSecurity(), style_hashes=["'sha256-x'"]))
    assert policy == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'sha256-x'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    }


def test_a_source_hash_is_the_base64_sha256_of_the_text() -> None:
    # The value browsers print for an empty inline element.
    assert source_hash("") == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    assert source_hash("é") == source_hash("é".encode())


def test_the_docs_policy_pins_scripts_by_hash() -> None:
    policy = directives(docs_policy(["'sha256-a'", "'sha256-b'"]))
    assert policy["script-src"] == ["https://cdn.jsdelivr.net", "'sha256-a'", "'sha256-b'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["default-src"] == ["'none'"]


def small_app() -> FastAPI:
    app = FastAPI(docs_url="/docs")

    @app.get("/own")
    def own() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"referrer-policy": "same-origin"})

    @app.get("/streamed")
    def streamed() -> StreamingResponse:
        return StreamingResponse(
            iter([b"<script>", b"one()", b"</script>"]), media_type="text/html"
        )

    @app.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    install_security_headers(app, "https://s.example", "https://cdn.example.net/l.png")
    return app


async def test_the_middleware_adds_only_what_an_answer_lacks() -> None:
    app = small_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        own, page = await c.get("/own"), await c.get("/page")
    assert own.headers.get_list("referrer-policy") == ["same-origin"]  # its own value stays
    assert own.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert directives(page.headers["content-security-policy"])["img-src"] == [
        "'self'", "data:", "https://cdn.example.net",
    ]  # fmt: skip


async def test_the_docs_policy_hashes_a_body_that_came_in_pieces() -> None:
    app = FastAPI(docs_url=None)

    @app.get("/reference")
    def streamed() -> StreamingResponse:
        return StreamingResponse(
            iter([b"<script>", b"one()", b"</script>"]), media_type="text/html"
        )

    app.add_middleware(SecurityHeadersMiddleware, site=SiteSecurity(), docs_path="/reference")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get("/reference")
    assert answer.text == "<script>one()</script>"
    policy = directives(answer.headers["content-security-policy"])
    assert policy["script-src"] == ["https://cdn.jsdelivr.net", source_hash("one()")]
