"""Page requests counted through the ASGI path (the middleware and the fallback routes)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry

from statuspage import SnapshotStore
from statuspage.page_requests import PageRequests
from tests.export.support import app_serving
from tests.metrics_platform.support import PATHS, counted_store, requests


async def fetch(store: SnapshotStore, path: str, **headers: str) -> httpx.Response:
    """One request through an app with the page mounted as ``create_app`` mounts it."""
    transport = httpx.ASGITransport(app=app_serving(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


@pytest.mark.parametrize("document", sorted(PATHS))
async def test_each_document_kind_is_counted_with_its_code(document: str) -> None:
    store, registry = counted_store()
    for _ in range(2):
        assert (await fetch(store, PATHS[document])).status_code == 200
    assert requests(registry, document, 200) == 2
    others = [kind for kind in PATHS if kind != document]
    assert all(requests(registry, kind, 200) == 0 for kind in others)


async def test_a_cache_hit_is_a_304() -> None:
    store, registry = counted_store()
    first = await fetch(store, "/api/v2/summary.json")
    again = await fetch(store, "/api/v2/summary.json", **{"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert requests(registry, "api", 200) == 1
    assert requests(registry, "api", 304) == 1


async def test_history_pages_by_query_count_as_history() -> None:
    store, registry = counted_store()
    await fetch(store, "/history?page=1")
    assert requests(registry, "history", 200) == 1


async def test_missing_documents_count_as_404_of_their_kind() -> None:
    store, registry = counted_store()
    assert (await fetch(store, "/api/v2/nothing.json")).status_code == 404
    assert (await fetch(store, "/incidents/99")).status_code == 404
    assert requests(registry, "api", 404) == 1
    assert requests(registry, "incident", 404) == 1


async def test_a_refused_method_is_counted_once() -> None:
    store, registry = counted_store()
    transport = httpx.ASGITransport(app=app_serving(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.delete("/")
    assert response.status_code == 405
    assert requests(registry, "index", 405) == 1


async def test_before_the_first_snapshot_a_503_is_counted() -> None:
    registry = CollectorRegistry()
    store = SnapshotStore(requests=PageRequests.on(registry))
    response = await fetch(store, "/api/v2/summary.json")
    assert response.status_code == 503
    assert requests(registry, "api", 503) == 1
