"""Page requests counted on the fast path (the uvicorn protocol) and once when handed over."""

from __future__ import annotations

from tests.export.test_protocol import Connection, serving
from tests.metrics_platform.support import PATHS, counted_store, requests


async def test_the_protocol_counts_each_document_kind_and_code() -> None:
    store, registry = counted_store()
    async with serving(store) as port:
        connection = await Connection.open(port)
        for path in PATHS.values():
            status, headers, _ = await connection.get(path)
            assert status == 200 and "server" not in headers  # answered on the connection
        await connection.close()
    assert all(requests(registry, kind, 200) == 1 for kind in PATHS)


async def test_the_protocol_counts_a_cache_hit_as_304() -> None:
    store, registry = counted_store()
    async with serving(store) as port:
        connection = await Connection.open(port)
        _, first, _ = await connection.get("/", "Accept-Encoding: gzip")
        status, headers, _ = await connection.get(
            "/", "Accept-Encoding: gzip", f"If-None-Match: {first['etag']}"
        )
        await connection.close()
    assert status == 304 and "server" not in headers
    assert requests(registry, "index", 200) == 1
    assert requests(registry, "index", 304) == 1


async def test_a_request_handed_to_uvicorn_is_counted_once() -> None:
    store, registry = counted_store()
    async with serving(store) as port:
        connection = await Connection.open(port)
        status, headers, _ = await connection.get("/nothing")  # hands the connection over
        assert status == 404 and headers["server"] == "uvicorn"
        status, headers, _ = await connection.get("/history.rss")
        assert status == 200 and headers["server"] == "uvicorn"  # through the middleware
        await connection.close()
    assert requests(registry, "feed", 200) == 1
    assert requests(registry, "other", 404) == 0  # not a snapshot document: not counted
