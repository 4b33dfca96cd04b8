"""Counting public page requests by document kind and status code, cheaply enough for the fast path.

The document kind is a small fixed set, chosen from the path once per snapshot document
(``Snapshot.build``), so a request costs one dictionary lookup and one ``inc()``.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter

DOCUMENTS = ("index", "incident", "history", "maintenance", "api", "feed", "badge", "other")
NAME = "exwatch_page_requests_total"
HELP = "Public page and API requests by document kind and status code (cache hits are 304s)"
_PREFIXES = (
    ("/api/", "api"),
    ("/incidents/", "incident"),
    ("/maintenance/", "maintenance"),
    ("/history/", "history"),
)


def document_of(path: str) -> str:
    """Return the kind of public document at ``path``: one of ``DOCUMENTS``."""
    if path == "/":
        return "index"
    if path.endswith((".atom", ".rss")):
        return "feed"
    if path.endswith("badge.svg"):
        return "badge"
    if path == "/history":
        return "history"
    for prefix, document in _PREFIXES:
        if path.startswith(prefix):
            return document
    return "other"


class PageRequests:
    """Counts requests on ``exwatch_page_requests_total``, one cached child per (document, code)."""

    def __init__(self, counter: Counter | None = None) -> None:
        # Without a counter (tests, export), count on a private registry: same cost, no branch.
        self._counter = counter if counter is not None else page_requests_counter(None)
        self._children: dict[tuple[str, int], Any] = {}

    @classmethod
    def on(cls, registry: CollectorRegistry) -> PageRequests:
        """Return a ``PageRequests`` counting on ``registry``."""
        return cls(page_requests_counter(registry))

    def count(self, document: str, status: int) -> None:
        """Count one answer of ``status`` for a ``document`` kind."""
        # Looking a child up by label values (and str(status)) costs more than the inc itself.
        child = self._children.get((document, status))
        if child is None:
            child = self._counter.labels(document, str(status))
            self._children[(document, status)] = child
        child.inc()


def page_requests_counter(registry: CollectorRegistry | None) -> Counter:
    """Return the ``exwatch_page_requests_total`` counter on ``registry`` (a new one if None)."""
    target = registry if registry is not None else CollectorRegistry()
    return Counter(NAME, HELP, ("document", "code"), registry=target)
