"""The document kind of a path, and the counter's cached children."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from statuspage.page_requests import DOCUMENTS, PageRequests, document_of
from tests.metrics_platform.support import PATHS, counted_store, requests


@pytest.mark.parametrize(
    ("path", "document"),
    [
        ("/", "index"),
        ("/incidents/12", "incident"),
        ("/history", "history"),
        ("/history/3", "history"),
        ("/maintenance/4", "maintenance"),
        ("/api/v2/incidents/unresolved.json", "api"),
        ("/api/v2/exwatch/uptime.json", "api"),
        ("/history.atom", "feed"),
        ("/components/a/history.rss", "feed"),
        ("/badge.svg", "badge"),
        ("/components/a/badge.svg", "badge"),
        ("/static/style.css", "other"),
        ("/historyx", "other"),
        ("", "other"),
    ],
)
def test_each_path_has_its_document_kind(path: str, document: str) -> None:
    assert document_of(path) == document


@given(st.text(max_size=60))
def test_any_path_gets_one_of_the_bounded_kinds(path: str) -> None:
    assert document_of(path) in DOCUMENTS


def test_the_snapshot_labels_each_path_once_at_publish() -> None:
    store, _ = counted_store()
    kinds = store.current.kinds
    assert set(kinds) == store.current.paths
    assert {kinds[path] for path in PATHS.values()} == set(DOCUMENTS)
    assert all(kinds[path] == kind for kind, path in PATHS.items())


def test_counts_go_to_one_child_per_document_and_code() -> None:
    registry = CollectorRegistry()
    counted = PageRequests.on(registry)
    for _ in range(3):
        counted.count("index", 200)
    counted.count("index", 304)
    counted.count("api", 404)
    assert requests(registry, "index", 200) == 3
    assert requests(registry, "index", 304) == 1
    assert requests(registry, "api", 404) == 1
    assert requests(registry, "api", 200) == 0


def test_without_a_registry_counting_still_works() -> None:
    counted = PageRequests()
    counted.count("badge", 200)  # on a private registry: must not raise nor touch a global one
    assert PageRequests().count("badge", 200) is None
