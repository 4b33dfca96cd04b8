"""The uvicorn protocol answering snapshot requests on the connection, and handing over the rest."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from statuspage import SnapshotStore
from statuspage.fast_protocol import snapshot_protocol
from tests.export.support import app_serving, incident, published

BOUND = 10.0  # seconds any single wait may take


@asynccontextmanager
async def serving(store: SnapshotStore, **options: Any) -> AsyncIterator[int]:
    """Run uvicorn with the snapshot protocol in front of an app serving ``store``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        app_serving(store), host="127.0.0.1", port=port, http=snapshot_protocol(store),
        lifespan="off", log_level="warning", access_log=False, **options,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(int(BOUND * 100)):  # bounded wait for uvicorn to listen
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, BOUND)


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, *requests: bytes) -> None:
        self.writer.write(b"".join(requests))
        await self.writer.drain()

    async def get(
        self, path: str, *headers: str, method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: test", *headers]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await self.response(head=method == "HEAD")

    async def response(self, *, head: bool = False) -> tuple[int, dict[str, str], bytes]:
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), BOUND)
        status_line, *lines = raw.decode("latin-1").split("\r\n")[:-2]
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        status = int(status_line.split()[1])
        length = 0 if head or status == 304 else int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(self.reader.readexactly(length), BOUND)
        return status, headers, body

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), BOUND) == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def via_middleware(store: SnapshotStore, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_serving(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_the_protocol_answers_exactly_as_the_middleware_does() -> None:
    store = published(incident(3))
    async with serving(store) as port:
        connection = await Connection.open(port)
        for path in ("/", "/incidents/3?lang=en", "/api/v2/summary.json", "/static/style.css"):
            for encoding in ("gzip", "identity"):
                status, headers, body = await connection.get(path, f"Accept-Encoding: {encoding}")
                reference = await via_middleware(store, path, **{"accept-encoding": encoding})
                assert status == reference.status_code == 200
                assert "server" not in headers and "date" in headers  # answered on the connection
                expected = dict(reference.headers)
                assert {k: headers[k] for k in expected} == expected
                content = gzip.decompress(body) if encoding == "gzip" else body
                assert content == reference.content
        await connection.close()


async def test_etags_head_and_keep_alive_on_one_connection() -> None:
    store = published()
    async with serving(store) as port:
        connection = await Connection.open(port)
        _, first, _ = await connection.get("/", "Accept-Encoding: gzip")
        status, headers, body = await connection.get(
            "/", "Accept-Encoding: gzip", f"If-None-Match: W/{first['etag']}"
        )
        assert (status, body, headers["etag"]) == (304, b"", first["etag"])
        status, headers, body = await connection.get("/", "Accept-Encoding: gzip", method="HEAD")
        assert status == 200 and headers["content-length"] == first["content-length"]
        status, _, _ = await connection.get("/api/v2/status.json")
        assert status == 200 and "server" not in headers
        await connection.close()


async def test_other_requests_go_to_uvicorn_and_the_connection_goes_on() -> None:
    store = published()
    async with serving(store) as port:
        connection = await Connection.open(port)
        status, headers, _ = await connection.get("/nothing")
        assert status == 404 and headers["server"] == "uvicorn"
        status, headers, body = await connection.get("/healthz")
        assert status == 200 and body == b'{"ok":true}'
        status, headers, _ = await connection.get("/", "Accept-Encoding: gzip")
        assert (
            status == 200
            and headers["server"] == "uvicorn"
            and headers["content-encoding"] == "gzip"
        )
        await connection.close()
        posted = await Connection.open(port)
        await posted.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        status, headers, _ = await posted.response()
        assert status == 405 and headers["allow"] == "GET, HEAD"
        await posted.close()


async def test_pipelined_and_split_requests() -> None:
    store = published()
    async with serving(store) as port:
        pipelined = await Connection.open(port)
        request = b"GET /api/v2/status.json HTTP/1.1\r\nHost: t\r\n\r\n"
        await pipelined.send(request, request.replace(b"status", b"components"))
        first, second = await pipelined.response(), await pipelined.response()
        assert b'"status"' in first[2] and b'"components"' in second[2]
        await pipelined.close()
        split = await Connection.open(port)
        await split.send(b"GET /api/v2/status.json HT")
        await asyncio.sleep(0.05)
        await split.send(b"TP/1.1\r\nHost: t\r\n\r\n")
        status, headers, _ = await split.response()
        assert status == 200 and "server" not in headers
        await split.close()


async def test_a_huge_head_or_an_upgrade_goes_to_uvicorn() -> None:
    store = published()
    async with serving(store) as port:
        connection = await Connection.open(port)
        status, headers, _ = await connection.get(
            "/api/v2/status.json", "X-Padding: " + "a" * 20_000
        )
        assert status == 200 and headers["server"] == "uvicorn"
        await connection.close()
        upgrade = await Connection.open(port)
        status, headers, _ = await upgrade.get(
            "/", "Connection: Upgrade", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"
        )
        assert headers.get("server") == "uvicorn"
        await upgrade.close()


async def test_connection_close_and_http_1_0_close_after_the_answer() -> None:
    store = published()
    async with serving(store) as port:
        closing = await Connection.open(port)
        status, headers, _ = await closing.get("/", "Connection: close")
        assert status == 200 and headers["connection"] == "close" and await closing.closed()
        await closing.close()
        old = await Connection.open(port)
        await old.send(b"GET /api/v2/status.json HTTP/1.0\r\n\r\n")
        status, headers, _ = await old.response()
        assert status == 200 and "server" not in headers and await old.closed()
        await old.close()


async def test_idle_connections_are_closed_after_the_keep_alive_timeout() -> None:
    store = published()
    async with serving(store, timeout_keep_alive=1) as port:
        connection = await Connection.open(port)
        assert (await connection.get("/"))[0] == 200
        assert await connection.closed()
        await connection.close()


async def test_before_the_first_snapshot_uvicorn_answers_503() -> None:
    async with serving(SnapshotStore()) as port:
        connection = await Connection.open(port)
        status, headers, _ = await connection.get("/")
        assert status == 503 and headers["retry-after"] == "5"
        await connection.close()


async def test_stopping_closes_idle_connections() -> None:
    store = published()
    async with serving(store) as port:
        connection = await Connection.open(port)
        assert (await connection.get("/"))[0] == 200
    assert await connection.closed()  # the server stopped within BOUND, closing it
    await connection.close()
