"""The snapshot: every public document rendered once per change, served as bytes.

DESIGN.md: rendering per request costs ~0.9 ms of CPU; serving bytes from memory is ~10× faster.
Each document is compressed once here, at publish time, and carries the response headers of
both its forms (identity and gzip), security headers included (``monitor.security.policy``:
the Content-Security-Policy allows the brand colours' inline ``<style>`` by its hash), so
serving it is a dictionary lookup and two writes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from jinja2 import Environment

from monitor.history_views import HistoryView
from monitor.security.policy import Headers, SiteSecurity, public_headers, source_hash
from monitor.views import SiteView, StatusView
from statuspage import api_v2
from statuspage.history import render_extras
from statuspage.html import PageRenderer, brand_css, build_environment
from statuspage.page_requests import PageRequests, document_of

HTML = "text/html; charset=utf-8"
JSON = "application/json"
CSS = "text/css; charset=utf-8"
# Ten seconds of caching lets a CDN or browser absorb a flood; revalidation with the ETag is a
# 304 of a few bytes. Thirty more seconds stale while revalidating keeps the page up if exwatch
# is slow to answer, and no cache shows an outage more than ~40 s late.
PAGE_CACHE = "public, max-age=10, stale-while-revalidate=30"
ASSET_CACHE = "public, max-age=86400, stale-while-revalidate=604800"
PAGE_VARY = "Accept-Language, Accept-Encoding"
ASSET_VARY = "Accept-Encoding"
MIN_GZIP_BYTES = 256  # below this gzip's own header outweighs what it saves
STYLE_PATH = "/static/style.css"

RENDER_TIMEOUT_SECONDS = 120.0

RawDocuments = dict[tuple[str, str], tuple[bytes, str]]
"""What rendering produces: (body, media type) by (path, language)."""
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Encoded:
    """One form of a document (identity or gzip): its bytes, its ETag and its response headers."""

    body: bytes
    etag: str
    headers: Headers  # for 200: type, length, ETag, caching, Vary (Content-Encoding), security
    not_modified: Headers  # for 304: ETag, caching, Vary (the cached answer has the rest)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One rendered document: its media type, its identity form and, when it helps, gzip."""

    media_type: str
    identity: Encoded
    gzip: Encoded | None
    cache_control: str = PAGE_CACHE
    vary: str = PAGE_VARY
    security: Headers = ()

    @classmethod
    def of(
        cls,
        body: bytes,
        media_type: str,
        *,
        cache_control: str = PAGE_CACHE,
        vary: str = PAGE_VARY,
        security: Headers = (),
    ) -> Rendered:
        """Wrap ``body``: compute its ETag, compress it once, prepare both forms' headers."""
        tag = hashlib.blake2b(body, digest_size=12).hexdigest()
        common = ((b"cache-control", cache_control.encode()), (b"vary", vary.encode()))
        identity = _encoded(body, f'"{tag}"', media_type, common, security)
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        smaller = len(body) >= MIN_GZIP_BYTES and len(packed) < len(body)
        encoded = _encoded(packed, f'"{tag}-gzip"', media_type, common, security, gzip=True)
        return cls(
            media_type, identity, encoded if smaller else None, cache_control, vary, security
        )

    def secured(self, security: Headers) -> Rendered:
        """Return this document with ``security`` headers instead of its own (not recompressed)."""
        if security == self.security:
            return self
        common = ((b"cache-control", self.cache_control.encode()), (b"vary", self.vary.encode()))
        identity, packed = self.identity, self.gzip
        return Rendered(
            self.media_type,
            _encoded(identity.body, identity.etag, self.media_type, common, security),
            None if packed is None else _encoded(
                packed.body, packed.etag, self.media_type, common, security, gzip=True
            ),
            self.cache_control, self.vary, security,
        )  # fmt: skip

    @property
    def body(self) -> bytes:
        """The uncompressed bytes."""
        return self.identity.body

    @property
    def etag(self) -> str:
        """The strong ETag of the uncompressed bytes."""
        return self.identity.etag


def _encoded(
    body: bytes,
    etag: str,
    media_type: str,
    common: Headers,
    security: Headers,
    *,
    gzip: bool = False,
) -> Encoded:
    tagged = ((b"etag", etag.encode()), *common)
    headers = (
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *security,
        *tagged,
    )
    if gzip:
        headers += ((b"content-encoding", b"gzip"),)
    return Encoded(body, etag, headers, tagged)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything served at one moment; replaced whole, so readers never see half a publish."""

    documents: dict[tuple[str, str], Rendered] = field(default_factory=dict)
    shared: dict[str, Rendered] = field(default_factory=dict)  # the same in every language
    languages: tuple[str, ...] = ("en",)
    ready: bool = False
    paths: frozenset[str] = frozenset()
    # Each path's document kind (``page_requests.DOCUMENTS``), chosen here once, not per request.
    kinds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        documents: dict[tuple[str, str], Rendered],
        shared: dict[str, Rendered],
        languages: tuple[str, ...],
        *,
        ready: bool,
    ) -> Snapshot:
        """Return a snapshot of ``documents`` and ``shared`` with its set of paths."""
        paths = frozenset(path for path, _ in documents) | frozenset(shared)
        kinds = {path: document_of(path) for path in paths}
        return cls(documents, shared, languages, ready, paths, kinds)

    def get(self, path: str, language: str) -> Rendered | None:
        """Return the document at ``path`` in ``language`` (or the shared one), if any."""
        return self.documents.get((path, language)) or self.shared.get(path)


class SnapshotStore:
    """Holds the newest rendering of every public document, by (path, language).

    ``renderer``, when set (``exwatch run`` sets a ``RenderProcess``), renders in another
    process; otherwise rendering happens in the caller's thread. ``requests`` counts the
    answers served from it (``exwatch_page_requests_total``).
    """

    def __init__(
        self, environment: Environment | None = None, *, requests: PageRequests | None = None
    ) -> None:
        self._environment = environment or build_environment()
        self.requests = requests or PageRequests()
        self.current = Snapshot.build({}, _render_shared(_BARE), ("en",), ready=False)
        self.renderer: RenderProcess | None = None

    def publish(self, view: StatusView, history: HistoryView | None = None) -> None:
        """Render everything from ``view`` and swap it in at once.

        A document whose bytes did not change keeps its ``Rendered`` (ETag, gzip) from the
        previous snapshot: most of a re-render is unchanged, and compressing it again is waste.
        """
        if self.renderer is not None:
            rendered = self.renderer.render(view, history)
        else:
            rendered = render_all(self._environment, view, history)
        previous = self.current.documents
        security = security_headers_of(view.site)
        documents = {
            key: _unchanged_or_new(previous.get(key), body, media_type, security)
            for key, (body, media_type) in rendered.items()
        }
        shared = _render_shared(security)
        self.current = Snapshot.build(documents, shared, view.site.languages, ready=True)

    def get(self, path: str, language: str) -> Rendered | None:
        """Return the document at ``path`` in ``language``, if rendered."""
        return self.current.get(path, language)

    def documents(self) -> Iterator[tuple[str, str | None, Rendered]]:
        """Yield every document as (path, language, rendered); shared ones have no language."""
        snapshot = self.current
        for (path, language), rendered in snapshot.documents.items():
            yield path, language, rendered
        for path, rendered in snapshot.shared.items():
            yield path, None, rendered

    @property
    def languages(self) -> tuple[str, ...]:
        """The page's languages, the default first."""
        return self.current.languages

    @property
    def ready(self) -> bool:
        """True once a first snapshot was published."""
        return self.current.ready


def render_all(
    environment: Environment, view: StatusView, history: HistoryView | None = None
) -> RawDocuments:
    """Render every document of every language of the page (and of its full ``history``)."""
    documents: RawDocuments = {}
    for language in view.site.languages:
        rendered = _render_language(environment, view, language, history=history)
        for path, document in rendered.items():
            documents[(path, language)] = document
    return documents


class RenderProcess:
    """Renders the snapshot in a separate process, so the serving process keeps its GIL.

    Rendering a 40-component page takes 100–300 ms of CPU. In a thread of the serving process
    it takes the GIL in 5 ms slices and every request waits behind it (p99 76 ms in a wrk run
    that had one, against ~5 ms; bench/README.md). Here the serving
    process only pickles the read model (~5 ms for that page) and receives the bytes. If the
    process dies, this one render happens in the caller's thread and the next starts a new one.
    """

    def __init__(self, timeout: float = RENDER_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def render(self, view: StatusView, history: HistoryView | None = None) -> RawDocuments:
        """Return every document of ``view``, rendered in the render process."""
        executor = self._running()
        try:
            return executor.submit(_render_in_worker, view, history).result(timeout=self._timeout)
        except BrokenProcessPool:
            log.warning("the render process died; rendering here this once")
            self._discard(executor)
            return _render_in_worker(view, history)

    def close(self) -> None:
        """Stop the render process (a later ``render`` would start another)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the serving process has threads (database, uvicorn).
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=context, initializer=_leave_interrupts_to_parent
                )
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)


def _leave_interrupts_to_parent() -> None:
    """Ctrl-C reaches the whole process group; the serving process stops the render process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_WORKER_ENVIRONMENT: list[Environment] = []


def _render_in_worker(view: StatusView, history: HistoryView | None) -> RawDocuments:
    """Render ``view`` with this process's own Jinja2 environment (built once)."""
    if not _WORKER_ENVIRONMENT:
        _WORKER_ENVIRONMENT.append(build_environment())
    return render_all(_WORKER_ENVIRONMENT[0], view, history)


def _render_language(
    environment: Environment,
    view: StatusView,
    language: str,
    *,
    history: HistoryView | None = None,
) -> dict[str, tuple[bytes, str]]:
    """Return every document of the page in ``language``, by path, as (body, media type).

    New documents (history, feeds, badges, more pages) are added here with one more
    ``documents |= renderer(...)`` returning the same shape; they are then compressed, served
    and exported with no new route.
    """
    # History pages, feeds and badges first: the status page's own documents win a clash.
    documents = render_extras(environment, view, history or HistoryView(), language)
    pages = PageRenderer(environment, view, language)
    documents["/"] = (pages.index().encode(), HTML)
    for item in view.incidents:
        documents[f"/incidents/{item.id}"] = (pages.incident(item).encode(), HTML)
    for path, payload in _json_documents(view, language).items():
        documents[path] = (_dump(payload), JSON)
    documents[api_v2.UPTIME_PATH] = (_dump(api_v2.uptime(view, language)), JSON)
    return documents


def security_headers_of(site: SiteView) -> Headers:
    """Return the security headers of every document of ``site``'s page.

    The brand colours are the page's one inline ``<style>`` (``base.html``); the policy allows
    exactly its text by hash, so no other inline style can apply.
    """
    security = SiteSecurity.of(site.url, site.branding.logo_url)
    brand = str(brand_css(site.branding))
    return public_headers(security, style_hashes=(source_hash(brand),) if brand else ())


def _unchanged_or_new(
    previous: Rendered | None, body: bytes, media_type: str, security: Headers
) -> Rendered:
    """Return ``previous`` if it holds exactly ``body``; otherwise wrap ``body`` anew."""
    if previous is not None and previous.media_type == media_type and previous.body == body:
        return previous.secured(security)
    return Rendered.of(body, media_type, security=security)


_BARE = public_headers(SiteSecurity())  # before the first publish: no site known yet
_STYLE = Rendered.of(
    files("statuspage").joinpath("static/style.css").read_bytes(),
    CSS,
    cache_control=ASSET_CACHE,
    vary=ASSET_VARY,
    security=_BARE,
)


def _render_shared(security: Headers) -> dict[str, Rendered]:
    """Return the documents that are the same in every language (assets), by path.

    Nothing shared depends on state yet (a language-neutral badge would); only the security
    headers, which depend on the site, change.
    """
    return {STYLE_PATH: _STYLE.secured(security)}


def _json_documents(view: StatusView, language: str) -> dict[str, Any]:
    page = api_v2.page(view)
    return {
        "/api/v2/summary.json": api_v2.summary(view, language),
        "/api/v2/status.json": {"page": page, "status": api_v2.status(view, language)},
        "/api/v2/components.json": {"page": page, "components": api_v2.components(view, language)},
        "/api/v2/incidents.json": {"page": page, "incidents": api_v2.incidents(view, language)},
        "/api/v2/incidents/unresolved.json": {
            "page": page,
            "incidents": api_v2.incidents(view, language, unresolved_only=True),
        },
        "/api/v2/scheduled-maintenances.json": {
            "page": page,
            "scheduled_maintenances": api_v2.scheduled_maintenances(view, language),
        },
        "/api/v2/scheduled-maintenances/upcoming.json": {
            "page": page,
            "scheduled_maintenances": api_v2.scheduled_maintenances(
                view, language, only=api_v2.UPCOMING
            ),
        },
        "/api/v2/scheduled-maintenances/active.json": {
            "page": page,
            "scheduled_maintenances": api_v2.scheduled_maintenances(
                view, language, only=api_v2.ACTIVE
            ),
        },
    }


def _dump(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
