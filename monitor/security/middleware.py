"""Adds the security headers to every response the app renders per request.

The public page's documents carry theirs from the snapshot and never pass through here (the
snapshot middleware answers them first). Everything else (admin JSON, the subscribe pages, the
ack page, the console, errors) gets ``private_headers``; a response that sets one of these
headers itself keeps its own value. Swagger UI (``/api/docs``) gets ``docs_policy`` with the
hash of the inline script FastAPI wrote into that very response.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.security.policy import (
    PRIVATE_REFERRER,
    Headers,
    SiteSecurity,
    docs_policy,
    private_headers,
    security_headers,
    source_hash,
)

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def install_security_headers(app: FastAPI, url: str, logo_url: str | None = None) -> None:
    """Add the middleware to ``app`` for a site at ``url`` whose logo is at ``logo_url``."""
    app.add_middleware(
        SecurityHeadersMiddleware, site=SiteSecurity.of(url, logo_url), docs_path=app.docs_url
    )


class SecurityHeadersMiddleware:
    """Adds the headers a response lacks; the docs page's policy is computed from its body."""

    def __init__(self, app: ASGIApp, *, site: SiteSecurity, docs_path: str | None = None) -> None:
        self.app = app
        self._site = site
        self._headers = private_headers(site)
        self._docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] == self._docs_path:
            await self.app(scope, receive, _hashing_scripts(send, self._site))
        else:
            await self.app(scope, receive, _adding(send, self._headers))


def with_headers(message: Message, headers: Headers) -> Message:
    """Return the ``http.response.start`` ``message`` with each of ``headers`` it lacks."""
    present = {name.lower() for name, _ in message.get("headers", ())}
    missing = [(name, value) for name, value in headers if name not in present]
    if not missing:
        return message
    return {**message, "headers": [*message.get("headers", ()), *missing]}


def _adding(send: Send, headers: Headers) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = with_headers(message, headers)
        await send(message)

    return wrapped


def _hashing_scripts(send: Send, site: SiteSecurity) -> Send:
    """Hold the docs page's answer until its body is complete, then allow its inline scripts.

    The page is FastAPI's (about 1 kB); its script names the OpenAPI URL, which depends on the
    request's root path, so the hash is taken from the answer itself rather than guessed.
    """
    start: list[Message] = []
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.append(message)
            return
        if message["type"] != "http.response.body" or not start:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        hashes = [source_hash(script) for script in _INLINE_SCRIPT.findall(body)]
        policy = docs_policy(hashes)
        headers = security_headers(site, policy, referrer=PRIVATE_REFERRER)
        await send(with_headers(start[0], headers))
        await send({"type": "http.response.body", "body": body})

    return wrapped
