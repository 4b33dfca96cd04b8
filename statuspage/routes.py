"""HTTP serving of the public page: bytes from the snapshot, answered before any routing.

Every path in the snapshot is served (new documents need no new route), with an ETag (304 on
``If-None-Match``), ``Cache-Control``, ``Vary`` and gzip when the client accepts it. One
function decides every answer (``Responder.answer``) and ``Responder.served`` counts it
(``exwatch_page_requests_total``: a 304 is a cache hit); two front doors use it:

- ``SnapshotMiddleware`` (here), plain ASGI in front of the app's routing: it serves the page
  in any ASGI server and in tests. Measured with wrk (bench/README.md), it did ~18,000 req/s
  where a FastAPI route did 3,000–6,000 and a Starlette route ~9,000.
- ``statuspage.fast_protocol.snapshot_protocol``, a uvicorn ``http`` protocol for
  ``exwatch run`` that answers snapshot requests straight from the connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.security.policy import PLAIN_HEADERS
from statuspage.i18n import choose_language
from statuspage.page_requests import document_of
from statuspage.snapshot import PAGE_CACHE, Snapshot, SnapshotStore

CACHE_CONTROL = PAGE_CACHE
RETRY_AFTER_SECONDS = 5
GET_HEAD = frozenset({"GET", "HEAD"})
NEGOTIATIONS_REMEMBERED = 1024  # distinct header values; real traffic sends a few dozen
Headers = tuple[tuple[bytes, bytes], ...]
_TEXT = b"text/plain; charset=utf-8"
_STARTING = b"starting: the status page is not rendered yet\n"
_NEGOTIATED = frozenset({b"accept-language", b"accept-encoding", b"if-none-match"})


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
    missing = {"description": "No such document", "content": {"text/plain": {}}}
    router.add_api_route(
        api_path, api, methods=["GET"], summary="Statuspage v2 public API", responses={404: missing}
    )
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
        self._count = store.requests.count

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

    def served(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> Answer | None:
        """Answer a request for a path in the current snapshot; None for any other path."""
        snapshot = self.store.current
        if path == "/history":
            path = history_page_path(query)
        if path not in snapshot.paths:
            return None
        answer = self.answer(snapshot, method, path, query, headers)
        self._count(snapshot.kinds[path], answer.status)
        return answer

    def answer_or_missing(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> Answer:
        """Answer any request: from the snapshot, or 404 (503 before the first snapshot)."""
        answer = self.served(method, path, query, headers)
        if answer is not None:
            return answer
        answer = plain(404, b"not found\n", ()) if self.store.ready else starting()
        self._count(document_of(path), answer.status)
        return answer


def history_page_path(query: bytes) -> str:
    """``/history?page=N`` is ``/history/N`` (the pages are files, for the static export)."""
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "page" and value.isdigit() and len(value) < 6 and int(value) > 1:
            return f"/history/{int(value)}"
    return "/history"


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
    """A short text answer (with the security headers of a document that loads nothing)."""
    length = (b"content-length", str(len(body)).encode())
    return Answer(status, ((b"content-type", _TEXT), length, *PLAIN_HEADERS, *headers), body)


class SnapshotMiddleware:
    """Answers every request for a snapshot path; everything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, store: SnapshotStore) -> None:
        self.app = app
        self._responder = Responder(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve from the snapshot, or pass on (a 404 becomes a 503 before the first snapshot)."""
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            answer = self._responder.served(method, path, scope["query_string"], scope["headers"])
            if answer is not None:
                await _send_answer(send, answer)
                return
            if not self._responder.store.ready and method in GET_HEAD and _public(path):
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
            await _send_answer(send, starting())
        elif not replaced:
            await send(message)

    return wrapped


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
