"""The websocket probe against real local aiohttp websocket servers."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trustme
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from probes import ProbeResult, Registry
from probes.websocket import WebsocketProbe, WebsocketSpec

Handler = Callable[[web.Request], Awaitable[web.WebSocketResponse]]
HEARTBEAT = {"type": "heartbeat"}
# What each subscriber sent: (its first message, its X-Api-Key header).
RECEIVED = web.AppKey("received", list[tuple[Any, str | None]])


def _trade(age_s: float) -> dict[str, Any]:
    stamp_ms = round((time.time() - age_s) * 1000)  # exchanges send epoch milliseconds
    return {"type": "trade", "data": [{"price": "15000000", "timestamp": stamp_ms}]}


async def _feed(request: web.Request) -> web.WebSocketResponse:
    """Like an exchange: nothing until subscribed, then a heartbeat and a trade."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    subscription = await ws.receive()
    if subscription.type is not WSMsgType.TEXT:  # the client left without subscribing
        return ws
    request.app[RECEIVED].append((subscription.data, request.headers.get("X-Api-Key")))
    await ws.send_json(HEARTBEAT)
    await ws.send_json(_trade(float(request.query.get("age", "0"))))
    async for _ in ws:  # stay open until the client leaves
        pass
    return ws


async def _close(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.close()
    return ws


async def _text(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str("pong, not JSON")
    await ws.receive()
    return ws


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app[RECEIVED] = []
    app.add_routes([web.get("/feed", _feed), web.get("/close", _close), web.get("/text", _text)])
    test_server = TestServer(app, host="127.0.0.1")
    async with test_server:
        yield test_server


@asynccontextmanager
async def _serving(path: str, handler: Handler) -> AsyncIterator[TestServer]:
    """Serve one websocket handler for the length of a test."""
    app = web.Application()
    app.add_routes([web.get(path, handler)])
    test_server = TestServer(app, host="127.0.0.1")
    async with test_server:
        yield test_server


def _url(server: TestServer, path: str) -> str:
    return str(server.make_url(path).with_scheme("ws"))


async def probe(url: str, **fields: Any) -> ProbeResult:
    spec = WebsocketSpec.model_validate({"kind": "websocket", "url": url, **fields})
    return await WebsocketProbe().run(spec)


SUBSCRIBE = {"op": "subscribe", "args": ["trades.BTC-KRW"]}
FRESH = "age([MESSAGE].data[0].timestamp) < 10s"


async def test_a_fresh_trade_passes(server: TestServer) -> None:
    result = await probe(
        _url(server, "/feed"),
        subscribe=SUBSCRIBE,
        match_path="$.type",
        match_value="trade",
        conditions=[FRESH, "[CONNECTED] == true", "[MESSAGE].data[0].price > 0"],
    )
    assert result.ok, result.failure_reason
    assert result.observed["CONNECTED"] is True
    assert result.observed["MESSAGES"] == 2
    assert 0 < result.observed["CONNECT_TIME"] < 5000
    assert 0 < result.observed["RESPONSE_TIME"] < 5000
    assert server.app[RECEIVED] == [(json.dumps(SUBSCRIBE), None)]


async def test_a_stale_trade_fails_the_age_condition(server: TestServer) -> None:
    result = await probe(
        _url(server, "/feed?age=60"),
        subscribe=SUBSCRIBE,
        match_path="$.type",
        match_value="trade",
        conditions=[FRESH],
    )
    assert not result.ok
    assert result.error is None  # the socket is up; the data is what is wrong
    assert 59 < result.conditions[0].observed < 70
    assert result.failure_reason is not None and result.failure_reason.startswith(FRESH)


async def test_without_a_match_the_first_message_counts(server: TestServer) -> None:
    result = await probe(
        _url(server, "/feed"), subscribe="hello", conditions=['[MESSAGE].type == "heartbeat"']
    )
    assert result.ok, result.failure_reason
    assert result.observed["MESSAGES"] == 1
    assert server.app[RECEIVED][0][0] == "hello"  # a string is sent as it is


async def test_match_path_skips_heartbeats(server: TestServer) -> None:
    result = await probe(
        _url(server, "/feed"),
        subscribe=SUBSCRIBE,
        match_path="$.data[0].price",  # any value will do, as long as it is there
        conditions=['[MESSAGE].type == "trade"', "[MESSAGES] == 2"],
    )
    assert result.ok, result.failure_reason


async def test_no_matching_message_in_time_is_a_clear_failure(server: TestServer) -> None:
    result = await probe(
        _url(server, "/feed"),
        subscribe=SUBSCRIBE,
        match_path="$.type",
        match_value="book",
        message_within="200ms",
        conditions=["[CONNECTED] == true"],
    )
    assert not result.ok
    assert result.error == "no message with $.type == 'book' within 0.2s (2 other messages skipped)"
    assert result.conditions[0].ok  # connected, all the same
    assert "RESPONSE_TIME" not in result.observed
    assert 0.2 <= result.duration_s < 1


async def test_a_silent_socket_fails(server: TestServer) -> None:
    result = await probe(_url(server, "/feed"), message_within="100ms")  # never subscribes
    assert result.error == "no message within 0.1s"
    assert result.observed["CONNECTED"] is True
    assert result.observed["MESSAGES"] == 0


async def test_a_server_that_never_finishes_the_close_still_passes() -> None:
    async def rude(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(_trade(0))
        await asyncio.sleep(30)  # never reads, so never answers the client's close frame
        return ws

    async with _serving("/rude", rude) as server:
        result = await probe(_url(server, "/rude"), timeout="300ms", conditions=[FRESH])
    assert result.ok, result.failure_reason
    assert result.duration_s < 1


async def test_the_overall_timeout_bounds_the_wait(server: TestServer) -> None:
    result = await probe(_url(server, "/feed"), timeout="150ms")
    assert result.error == "timed out after 0.15s: no message yet"
    assert result.duration_s < 1


async def test_a_refused_connection_fails() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await probe(f"ws://127.0.0.1:{port}/", conditions=["[CONNECTED] == false"])
    assert not result.ok
    assert result.error is not None and "ClientConnectorError" in result.error
    assert result.observed == {"CONNECTED": False, "MESSAGES": 0}
    assert result.conditions[0].ok


async def test_a_server_that_closes_at_once_fails(server: TestServer) -> None:
    result = await probe(_url(server, "/close"), subscribe=SUBSCRIBE)
    assert result.observed["CONNECTED"] is True
    assert result.error == "the server closed the websocket (code 1000) before a message arrived"


async def test_a_server_that_drops_the_connection_before_the_handshake_fails() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the whole upgrade request, then no answer
        writer.close()

    tcp = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    async with tcp:
        result = await probe(f"ws://127.0.0.1:{port}/")
    assert result.observed["CONNECTED"] is False
    assert result.error is not None and "ServerDisconnectedError" in result.error


async def test_a_plain_http_endpoint_fails_the_handshake(server: TestServer) -> None:
    result = await probe(_url(server, "/nowhere"))
    assert result.error is not None and "WSServerHandshakeError" in result.error


async def test_text_messages_are_kept_as_text(server: TestServer) -> None:
    result = await probe(_url(server, "/text"), conditions=['[MESSAGE] == "pong, not JSON"'])
    assert result.ok, result.failure_reason
    assert result.observed["message_size"] == 14


async def test_headers_are_sent_and_the_message_is_not_stored_whole(server: TestServer) -> None:
    result = await probe(
        _url(server, "/feed"),
        headers={"X-Api-Key": "k1"},
        subscribe=SUBSCRIBE,
        match_path="$.type",
        match_value="trade",
    )
    assert server.app[RECEIVED][0][1] == "k1"
    assert "MESSAGE" not in result.observed
    assert result.observed["message_preview"].startswith('{"type": "trade"')
    assert result.observed["message_size"] == len(result.observed["message_preview"].encode())


async def test_a_long_message_is_previewed_in_200_characters() -> None:
    async def big(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"asks": [[15_000_000 + i, 0.5] for i in range(2000)]})
        await ws.receive()
        return ws

    async with _serving("/book", big) as server:
        result = await probe(_url(server, "/book"), conditions=["len([MESSAGE].asks) == 2000"])
    assert result.ok, result.failure_reason
    assert len(result.observed["message_preview"]) == 200
    assert result.observed["message_size"] > 20_000


async def test_wss_verifies_certificates_unless_told_not_to() -> None:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    app = web.Application()
    app.add_routes([web.get("/text", _text)])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=context)  # TestServer's own kwargs do not reach the site
    async with server:
        url = str(server.make_url("/text").with_scheme("wss"))
        refused = await probe(url)
        accepted = await probe(url, verify_tls=False)
    assert refused.error is not None and "certificate" in refused.error.lower()
    assert accepted.ok, accepted.failure_reason


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"url": "http://example.com/"}, "URL scheme should be 'ws' or 'wss'"),
        ({"match_path": "$["}, "is not a JSONPath"),
        ({"match_value": "trade"}, "match_value needs match_path"),
        ({"headers": {"X": "a\r\nB: c"}}, "line break"),
        ({"conditions": ["[STATUS] == 200"]}, "unknown placeholder [STATUS]"),
        ({"message_within": "0s"}, "greater than 0"),
    ],
)
def test_bad_specs_are_refused_at_load(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem.replace("[", r"\[").replace("$", r"\$")):
        WebsocketSpec.model_validate({"kind": "websocket", "url": "wss://x.test/ws", **fields})


def test_match_value_keeps_its_json_type() -> None:
    spec = WebsocketSpec.model_validate(
        {"kind": "websocket", "url": "wss://x.test/", "match_path": "$.ok", "match_value": True}
    )
    assert spec.match_value is True


async def test_a_boolean_match_value_does_not_match_one() -> None:
    async def flags(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"ok": 1})
        await ws.send_json({"ok": True})
        await ws.receive()
        return ws

    async with _serving("/flags", flags) as flag_server:
        result = await probe(_url(flag_server, "/flags"), match_path="$.ok", match_value=True)
    assert result.ok, result.failure_reason
    assert result.observed["MESSAGES"] == 2


def test_the_kind_registers() -> None:
    registry = Registry()
    registry.register("websocket", WebsocketSpec, WebsocketProbe)
    assert registry.get("websocket").spec is WebsocketSpec
    assert isinstance(registry.get("websocket").factory(), WebsocketProbe)
