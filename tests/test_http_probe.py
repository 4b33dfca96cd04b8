"""The http probe against a real local aiohttp server: status, body, time, failures."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from probes import REGISTRY, HttpProbe, HttpSpec, ProbeResult


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "depth": 3})


async def _slow(_: web.Request) -> web.Response:
    await asyncio.sleep(0.5)
    return web.json_response({"status": "ok"})


async def _big(_: web.Request) -> web.Response:
    return web.Response(body=b"x" * 5000)


async def _down(_: web.Request) -> web.Response:
    return web.json_response({"status": "down"}, status=503)


async def _redirect(_: web.Request) -> web.Response:
    raise web.HTTPFound("/health")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.add_routes(
        [
            web.get("/health", _health),
            web.get("/slow", _slow),
            web.get("/big", _big),
            web.get("/down", _down),
            web.get("/redirect", _redirect),
            web.get("/text", lambda _: web.Response(text="plain")),  # type: ignore[arg-type,return-value]
        ]
    )
    async with TestServer(app, host="127.0.0.1") as test_server:
        yield test_server


async def probe(server: TestServer, path: str, **fields: object) -> ProbeResult:
    spec = HttpSpec.model_validate({"kind": "http", "url": str(server.make_url(path)), **fields})
    http = HttpProbe()
    try:
        return await http.run(spec)
    finally:
        await http.aclose()


async def test_a_healthy_endpoint_passes_with_observations(server: TestServer) -> None:
    result = await probe(
        server,
        "/health",
        conditions=["[STATUS] == 200", '[BODY].status == "ok"', "[BODY].depth < 500"],
    )
    assert result.ok, result.failure_reason
    assert result.observed["STATUS"] == 200
    assert result.observed["RESPONSE_TIME"] > 0
    assert [c.observed for c in result.conditions] == [200, "ok", 3]


async def test_a_failed_condition_says_what_it_saw(server: TestServer) -> None:
    result = await probe(server, "/down", conditions=["[STATUS] == 200", '[BODY].status == "ok"'])
    assert not result.ok
    assert result.failure_reason == "[STATUS] == 200 → 503; [BODY].status == \"ok\" → 'down'"


async def test_expect_status_shorthand(server: TestServer) -> None:
    assert (await probe(server, "/down", expect_status=503)).ok
    result = await probe(server, "/health", expect_status=204)
    assert result.failure_reason == "status 200, expected 204"


async def test_timeouts_become_failed_results(server: TestServer) -> None:
    result = await probe(server, "/slow", timeout="100ms")
    assert not result.ok
    assert result.error == "timed out after 0.1s"
    assert result.duration_s < 0.45


async def test_latency_conditions_use_milliseconds(server: TestServer) -> None:
    result = await probe(server, "/slow", conditions=["[RESPONSE_TIME] < 200ms"])
    assert not result.ok
    assert result.conditions[0].observed >= 500


async def test_a_refused_connection_is_a_failed_result() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = HttpSpec.model_validate({"kind": "http", "url": f"http://127.0.0.1:{port}/"})
    result = await HttpProbe().run(spec)
    assert not result.ok
    assert result.error is not None and "ClientConnectorError" in result.error


async def test_the_body_read_is_capped(server: TestServer) -> None:
    result = await probe(server, "/big", body_limit=1000, conditions=["len([BODY]) == 1000"])
    assert result.observed["SIZE"] == 1000
    assert result.observed["TRUNCATED"] is True
    assert result.ok


async def test_redirects_follow_or_not(server: TestServer) -> None:
    assert (await probe(server, "/redirect", expect_status=200)).ok
    assert (await probe(server, "/redirect", follow_redirects=False, expect_status=302)).ok


async def test_a_text_body_is_compared_as_text(server: TestServer) -> None:
    assert (await probe(server, "/text", conditions=['[BODY] == "plain"'])).ok


def test_the_registry_knows_http_and_refuses_duplicates() -> None:
    assert REGISTRY.get("http").spec is HttpSpec
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register("http", HttpSpec, HttpProbe)
    with pytest.raises(KeyError, match="unknown probe kind 'ftp'"):
        REGISTRY.get("ftp")


async def test_a_large_body_is_read_whole_up_to_the_limit() -> None:
    book = {"bids": [[15_000_000 + i, 0.5] for i in range(16000)], "price": 5}

    async def big_json(_: web.Request) -> web.Response:
        return web.json_response(book)

    app = web.Application()
    app.add_routes([web.get("/book", big_json)])
    async with TestServer(app, host="127.0.0.1") as server:
        result = await probe(
            server, "/book", conditions=["[BODY].price == 5", "len([BODY].bids) == 16000"]
        )
    assert result.observed["SIZE"] > 250_000  # well past one read() chunk
    assert result.observed["TRUNCATED"] is False
    assert result.ok, result.failure_reason


def test_stored_observations_are_strict_json_and_bounded() -> None:
    import json

    from probes import ConditionOutcome

    result = ProbeResult(
        ok=False,
        duration_s=0.1,
        observed={"x": float("nan"), "long": "a" * 10_000, "nul": "a\0b"},
        conditions=(ConditionOutcome("[BODY] == 1", False, list(range(1000))),),
    )
    stored = result.to_json()
    json.dumps(stored, allow_nan=False)  # PostgreSQL's json refuses NaN
    assert stored["observed"]["x"] == "nan"
    assert len(stored["observed"]["long"]) == 500
    assert "\0" not in stored["observed"]["nul"]
    assert len(stored["conditions"][0]["observed"]) == 20


async def test_phase_timings_are_recorded(server: TestServer) -> None:
    result = await probe(
        server, "/slow", conditions=["[FIRST_BYTE_TIME] > 400", "[CONNECT_TIME] < 1s"]
    )
    assert result.ok, result.failure_reason
    assert set(result.phases) >= {"connect", "first_byte", "total"}
    assert result.phases["first_byte"] >= 0.45  # the server waits 0.5 s before answering
    assert result.phases["total"] >= result.phases["first_byte"] + result.phases["connect"]
    assert result.observed["RESPONSE_TIME"] == pytest.approx(
        result.phases["total"] * 1000, abs=0.01
    )
    assert result.to_json()["phases"]["first_byte"] >= 0.45


async def test_a_hostname_is_resolved_and_timed(server: TestServer) -> None:
    url = str(server.make_url("/health")).replace("127.0.0.1", "localhost")
    spec = HttpSpec.model_validate({"kind": "http", "url": url})
    result = await HttpProbe().run(spec)
    assert "dns" in result.phases


async def test_a_timeout_keeps_the_phases_it_reached(server: TestServer) -> None:
    result = await probe(server, "/slow", timeout="200ms")
    assert result.error == "timed out after 0.2s"
    assert "connect" in result.phases and "first_byte" not in result.phases


async def test_the_tls_handshake_is_its_own_phase() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    app = web.Application()
    app.add_routes([web.get("/health", _health)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}/health"
    probe = HttpProbe()
    try:
        spec = HttpSpec.model_validate(
            {"kind": "http", "url": url, "verify_tls": False, "conditions": ["[TLS_TIME] > 0"]}
        )
        result = await probe.run(spec)
        refused = await probe.run(
            HttpSpec.model_validate({"kind": "http", "url": url})
        )  # CA not trusted
    finally:
        await probe.aclose()
        await runner.cleanup()
    assert result.ok, result.failure_reason
    assert {"tls", "connect", "first_byte", "total"} <= set(result.phases)
    assert result.phases["total"] >= result.phases["tls"] + result.phases["connect"]
    assert not refused.ok and "certificate" in (refused.error or "").lower()
