"""HTTP serving of the public page: bytes from the snapshot, answered before any routing.

Every path in the snapshot is served (new documents need no new route), with an ETag (304 on
``If-None-Match``), ``Cache-Control``, ``Vary`` and gzip when the client accepts it. One
function decides every answer (``Responder.answer``); two front doors use it:

- ``SnapshotMiddleware``, plain ASGI in front of the app's routing: it serves the page in any
  ASGI server and in tests. Measured with wrk (bench/README.md), it did ~18,000 req/s where
  a FastAPI route did 3,000–6,000 and a Starlette route ~9,000.
- ``snapshot_protocol``, a uvicorn ``http`` protocol for ``exwatch run``: it answers a
  request for a snapshot document straight from the connection (no ASGI cycle, no task)
  and hands the connection to uvicorn's own protocol at the first request it does not
  answer itself. That took exwatch from ~0.4× to 0.5–0.9× nginx's rate on the same bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

import httptools
from fastapi import APIRouter, FastAPI, Request, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from statuspage.i18n import choose_language
from statuspage.snapshot import PAGE_CACHE, Snapshot, SnapshotStore

CACHE_CONTROL = PAGE_CACHE
RETRY_AFTER_SECONDS = 5
GET_HEAD = frozenset({"GET", "HEAD"})
NEGOTIATIONS_REMEMBERED = 1024  # distinct header values; real traffic sends a few dozen
MAX_REQUEST_HEAD = 16 * 1024  # a longer request head goes to uvicorn's protocol
Headers = tuple[tuple[bytes, bytes], ...]
_TEXT = b"text/plain; charset=utf-8"
_STARTING = b"starting: the status page is not rendered yet\n"
_NEGOTIATED = frozenset({b"accept-language", b"accept-encoding", b"if-none-match"})
log = logging.getLogger(__name__)


def mount(app: FastAPI, store: SnapshotStore) -> None:
    """Serve ``store`` from ``app``: every snapshot path, ahead of routing, plus the API's docs."""
    app.add_middleware(SnapshotMiddleware, store=store)
    app.include_router(build_router(store))


# The page's paths as of #5, for an app without the middleware (see build_router).
FALLBACK_PATHS = (
    "/", "/incidents/{incident}", "/maintenance/{window}", "/history", "/history/{page}",
    "/history.atom", "/history.rss", "/badge.svg", "/components/{rest:path}", "/static/{rest:path}",
)  # fmt: skip


def build_router(store: SnapshotStore) -> APIRouter:
    """Return routes answering the page's known paths from ``store``, and the API's docs.

    ``mount`` (the middleware) is the way to serve the page: it answers every path in the
    snapshot before routing, new ones included. These routes give the same answers for the
    paths the page has today in an app without it, and document the public API in OpenAPI.
    """
    router = APIRouter()
    endpoint = SnapshotEndpoint(store)
    for path in FALLBACK_PATHS:
        router.routes.append(
            Route(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)
        )
    responder = Responder(store)

    async def api(name: str, request: Request) -> Response:
        answer = responder.answer_or_missing(
            request.method,
            f"/api/v2/{name}",
            request.scope["query_string"],
            request.scope["headers"],
        )
        headers = {key.decode(): value.decode() for key, value in answer.headers}
        return Response(answer.body, status_code=answer.status, headers=headers)

    api_path = "/api/v2/{name:path}"
    router.add_api_route(api_path, api, methods=["GET"], summary="Statuspage v2 public API")
    router.add_api_route(api_path, api, methods=["HEAD"], include_in_schema=False)
    return router


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete response: status, headers (with Content-Length) and body."""

    status: int
    headers: Headers
    body: bytes


class Responder:
    """Decides the answer to a request for a snapshot document."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store
        self._negotiator = Negotiator()

    def answer(
        self,
        snapshot: Snapshot,
        method: str,
        path: str,
        query: bytes,
        headers: Iterable[tuple[bytes, bytes]],
    ) -> Answer:
        """Answer ``method path?query`` (``path`` must be in ``snapshot.paths``)."""
        if method not in GET_HEAD:
            return plain(405, b"method not allowed\n", ((b"allow", b"GET, HEAD"),))
        wanted = {name: value for name, value in headers if name in _NEGOTIATED}
        # Feeds and badges answer in ?lang= or the default language, never by Accept-Language:
        # their bytes (and feed entry ids) must not depend on who fetches them.
        accept = b"" if path.endswith(_FIXED_LANGUAGE) else wanted.get(b"accept-language", b"")
        language = self._negotiator.language(_query_language(query), accept, snapshot.languages)
        document = snapshot.get(path, language)
        if document is None:  # a path rendered in another language only
            return plain(404, b"not found\n", ())
        form = document.identity
        if document.gzip is not None and self._negotiator.gzip(wanted.get(b"accept-encoding", b"")):
            form = document.gzip
        localized = (path, language) in snapshot.documents
        extra = ((b"content-language", language.encode()),) if localized else ()
        tags = wanted.get(b"if-none-match")
        if tags and etag_matches(tags, form.etag):
            return Answer(304, form.not_modified + extra, b"")
        return Answer(200, form.headers + extra, b"" if method == "HEAD" else form.body)

    def answer_or_missing(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> Answer:
        """Answer any request: from the snapshot, or 404 (503 before the first snapshot)."""
        snapshot = self.store.current
        if path in snapshot.paths:
            return self.answer(snapshot, method, path, query, headers)
        if snapshot.ready:
            return plain(404, b"not found\n", ())
        return starting()


def starting() -> Answer:
    """The answer before the first snapshot."""
    retry = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
    return plain(503, _STARTING, (retry, (b"cache-control", b"no-store")))


class SnapshotEndpoint:
    """A raw ASGI endpoint answering from the snapshot (``build_router``'s routes)."""

    def __init__(self, store: SnapshotStore) -> None:
        self._responder = Responder(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request."""
        answer = self._responder.answer_or_missing(
            scope["method"], scope["path"], scope["query_string"], scope["headers"]
        )
        await _send_answer(send, answer)


def plain(status: int, body: bytes, headers: Headers) -> Answer:
    """A short text answer."""
    length = (b"content-length", str(len(body)).encode())
    return Answer(status, ((b"content-type", _TEXT), length, *headers), body)


class SnapshotMiddleware:
    """Answers every request for a snapshot path; everything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, store: SnapshotStore) -> None:
        self.app = app
        self._responder = Responder(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve from the snapshot, or pass on (a 404 becomes a 503 before the first snapshot)."""
        if scope["type"] == "http":
            snapshot = self._responder.store.current
            if scope["path"] in snapshot.paths:
                answer = self._responder.answer(
                    snapshot,
                    scope["method"],
                    scope["path"],
                    scope["query_string"],
                    scope["headers"],
                )
                await _send_answer(send, answer)
                return
            if not snapshot.ready and scope["method"] in GET_HEAD and _public(scope["path"]):
                await self.app(scope, receive, starting_instead_of_not_found(send))
                return
        await self.app(scope, receive, send)


async def _send_answer(send: Send, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


_PRIVATE_PREFIXES = ("/api/admin/", "/api/agent/", "/api/alertmanager", "/api/reports")


def _public(path: str) -> bool:
    """True for a path the snapshot may hold: an API's own 404 ("no incident #9") stays a 404."""
    return not path.startswith(_PRIVATE_PREFIXES)


def starting_instead_of_not_found(send: Send) -> Send:
    """Wrap ``send`` so a 404 becomes 503 with ``Retry-After``: before the first snapshot no
    public path can be said not to exist."""
    replaced = False

    async def wrapped(message: Message) -> None:
        nonlocal replaced
        if message["type"] == "http.response.start" and message["status"] == 404:
            replaced = True
            retry = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
            await _send_answer(
                send, plain(503, _STARTING, (retry, (b"cache-control", b"no-store")))
            )
        elif not replaced:
            await send(message)

    return wrapped


def snapshot_protocol(
    store: SnapshotStore, fallback: type[asyncio.Protocol] | None = None
) -> type[asyncio.Protocol]:
    """Return a uvicorn ``http`` protocol class serving ``store`` ahead of ``fallback``
    (uvicorn's own protocol by default): ``uvicorn.Config(app, http=snapshot_protocol(store))``.
    """
    responder, handed_to = Responder(store), fallback or AutoHTTPProtocol

    class BoundSnapshotProtocol(SnapshotProtocol):
        """``SnapshotProtocol`` serving ``store``."""

        def __init__(self, **uvicorn: Any) -> None:
            super().__init__(responder, handed_to, **uvicorn)

    return BoundSnapshotProtocol


class SnapshotProtocol(asyncio.Protocol):
    """One connection: answers snapshot requests itself, hands everything else to uvicorn.

    It answers only a request that arrives alone (one complete head, no body, nothing after
    it), is for a path in a published snapshot, and is not an upgrade. Anything else (a form
    post, a pipelined burst, an API call, a bad request) and the connection goes, with the
    bytes received, to uvicorn's protocol for good: uvicorn's rules apply from there on.
    """

    def __init__(
        self, responder: Responder, fallback: type[asyncio.Protocol], **uvicorn: Any
    ) -> None:
        self.responder = responder
        self.fallback = fallback
        self._uvicorn = uvicorn  # config, server_state, app_state: handed on as they came
        config = uvicorn.get("config")
        self._keep_alive_seconds = float(getattr(config, "timeout_keep_alive", 5))
        self._server_state: Any = uvicorn.get("server_state")
        self._connections: set[Any] | None = getattr(self._server_state, "connections", None)
        self._transport: Any = None  # asyncio's or uvloop's transport
        self._parser = httptools.HttpRequestParser(self)
        self._buffer = b""
        self._request = _Request()
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start with an empty request; uvicorn counts us among its connections."""
        self._transport = transport
        if self._connections is not None:
            self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self._forget()

    def data_received(self, data: bytes) -> None:
        """Answer a lone request for a snapshot document; hand over anything else."""
        self._cancel_idle()
        buffer = self._buffer + data
        end = buffer.find(b"\r\n\r\n")
        if end < 0 and len(buffer) <= MAX_REQUEST_HEAD:
            self._buffer = buffer  # the rest of the head is on its way
            return
        self._buffer = b""
        lone = end + 4 == len(buffer) <= MAX_REQUEST_HEAD
        answer = self._answer_safely(buffer) if lone else None
        if answer is None:
            self._hand_over(buffer)
            return
        self._write(answer, keep_alive=self._request.keep_alive)

    def pause_writing(self) -> None:
        """A client not reading its answers: stop reading its requests."""
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        """The client caught up."""
        if self._transport is not None:
            self._transport.resume_reading()

    def shutdown(self) -> None:
        """uvicorn is stopping: between requests there is nothing to finish, so close."""
        if self._transport is not None:
            self._transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        """Collect the target."""
        self._request.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect the headers."""
        self._request.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        """Note what the request line and headers decided."""
        request, parser = self._request, self._parser
        request.method = parser.get_method().decode("ascii", "replace")
        request.keep_alive = parser.should_keep_alive()
        request.upgrade = parser.should_upgrade()

    def on_message_complete(self) -> None:
        """The request is whole (it had no body)."""
        self._request.complete = True

    def _answer_safely(self, head: bytes) -> Answer | None:
        try:
            return self._answer(head)
        except Exception:  # uvicorn and the ASGI app will answer it, with their error handling
            log.exception("the snapshot protocol could not answer; handing over to uvicorn")
            return None

    def _answer(self, head: bytes) -> Answer | None:
        """Parse a lone request; return its answer if it is one for the snapshot."""
        self._request = request = _Request()
        try:
            self._parser.feed_data(head)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):  # uvicorn's to refuse
            return None
        snapshot = self.responder.store.current
        if not request.complete or request.upgrade or not snapshot.ready:
            return None
        try:
            url = httptools.parse_url(request.url)
        except httptools.HttpParserInvalidURLError:  # OPTIONS *, or worse: uvicorn's to answer
            return None
        path = url.path.decode("ascii", "replace")
        path = unquote(path) if "%" in path else path
        if path not in snapshot.paths:
            return None
        return self.responder.answer(
            snapshot, request.method, path, url.query or b"", request.headers
        )

    def _write(self, answer: Answer, *, keep_alive: bool) -> None:
        head = [_STATUS_LINES[answer.status]]
        head += [name + b": " + value + b"\r\n" for name, value in answer.headers]
        head.append(_http_date())
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        self._transport.write(b"".join(head) + answer.body)
        if hasattr(self._server_state, "total_requests"):  # uvicorn's --limit-max-requests
            self._server_state.total_requests += 1
        if keep_alive:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self._keep_alive_seconds, self._close_idle)
        else:
            self._transport.close()

    def _hand_over(self, received: bytes) -> None:
        """Give the connection, and what it sent so far, to uvicorn's protocol."""
        transport, self._transport = self._transport, None
        self._forget()
        protocol = self.fallback(**self._uvicorn)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if received:
            protocol.data_received(received)

    def _close_idle(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _forget(self) -> None:
        self._cancel_idle()
        if self._connections is not None:
            self._connections.discard(self)


class _Request:
    """What the parser told us about the current request."""

    __slots__ = ("complete", "headers", "keep_alive", "method", "upgrade", "url")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.method = ""
        self.keep_alive = False
        self.upgrade = False
        self.complete = False


_STATUS_LINES = {
    200: b"HTTP/1.1 200 OK\r\n",
    304: b"HTTP/1.1 304 Not Modified\r\n",
    404: b"HTTP/1.1 404 Not Found\r\n",
    405: b"HTTP/1.1 405 Method Not Allowed\r\n",
}
_date_cache: list[Any] = [0, b""]


def _http_date() -> bytes:
    """The ``Date`` header line, formatted once a second."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n"]
    line: bytes = _date_cache[1]
    return line


def etag_matches(header: bytes, etag: str) -> bool:
    """True if ``If-None-Match`` lists ``etag`` (weak comparison: ``W/`` ignored) or is ``*``."""
    text = header.decode("latin-1")
    if text.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in text.split(","))


def accepts_gzip(header: str) -> bool:
    """True if an ``Accept-Encoding`` value allows gzip (``gzip``/``x-gzip`` or ``*``, q > 0)."""
    wildcard = False
    for part in header.split(","):
        coding, _, parameters = part.partition(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return _quality(parameters) > 0
        if coding == "*":
            wildcard = _quality(parameters) > 0
    return wildcard


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def _query_language(query: bytes) -> str | None:
    if b"lang=" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "lang":
            return value
    return None


_FIXED_LANGUAGE = (".atom", ".rss", "badge.svg")


class Negotiator:
    """Remembers what each ``Accept-Language``/``Accept-Encoding`` value chose (they repeat)."""

    def __init__(self) -> None:
        self._languages: dict[tuple[str | None, bytes], str] = {}
        self._offered: tuple[str, ...] = ()
        self._gzip: dict[bytes, bool] = {}

    def language(self, query: str | None, header: bytes, offered: tuple[str, ...]) -> str:
        """Return ``?lang=`` if offered, else the best ``Accept-Language`` match, else the default."""
        if offered != self._offered:
            self._languages.clear()
            self._offered = offered
        key = (query, header)
        chosen = self._languages.get(key)
        if chosen is None:
            chosen = choose_language(query, header.decode("latin-1"), offered)
            _remember(self._languages, key, chosen)
        return chosen

    def gzip(self, header: bytes) -> bool:
        """True if the ``Accept-Encoding`` value allows gzip."""
        allowed = self._gzip.get(header)
        if allowed is None:
            allowed = accepts_gzip(header.decode("latin-1"))
            _remember(self._gzip, header, allowed)
        return allowed


K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    """Store ``key``; a client inventing header values cannot grow the cache without bound."""
    if len(cache) >= NEGOTIATIONS_REMEMBERED:
        cache.clear()
    cache[key] = value
