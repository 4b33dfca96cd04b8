"""The jsonrpc_height probe against fake ethereum and bitcoin nodes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from probes import ProbeResult, Registry
from probes.jsonrpc import (
    MAX_HEIGHT,
    BadReplyError,
    JsonRpcHeightProbe,
    JsonRpcHeightSpec,
    parse_height,
)

Reply = Literal["ok", "rpc_error", "malformed", "not_json", "slow"]


@dataclass
class FakeNode:
    """A node's scripted behaviour, and the calls it received with their Authorization."""

    flavor: str
    height: int
    reply: Reply = "ok"
    calls: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)


NODE = web.AppKey("node", FakeNode)


async def _rpc(request: web.Request) -> web.Response:
    node = request.app[NODE]
    call = await request.json()
    node.calls.append((call, request.headers.get("Authorization")))
    if node.reply == "slow":
        await asyncio.sleep(5)
    if node.reply == "not_json":
        return web.Response(status=502, text="<html>502 Bad Gateway</html>")
    if node.reply == "rpc_error" and node.flavor == "bitcoin":  # bitcoind: HTTP 500 + JSON
        error = {"code": -28, "message": "Loading block index..."}
        return web.json_response({"result": None, "error": error, "id": call["id"]}, status=500)
    if node.reply == "rpc_error":
        error = {"code": -32601, "message": "the method eth_blockNumber does not exist"}
        return web.json_response({"jsonrpc": "2.0", "id": call["id"], "error": error})
    if node.flavor == "bitcoin":
        return web.json_response({"result": node.height, "error": None, "id": call["id"]})
    result = "0xZZ" if node.reply == "malformed" else hex(node.height)
    return web.json_response({"jsonrpc": "2.0", "id": call["id"], "result": result})


StartNode = Callable[..., Awaitable[tuple[str, FakeNode]]]


@pytest.fixture
async def start_node() -> AsyncIterator[StartNode]:
    """Start fake nodes for one test: ``url, node = await start_node("ethereum", 100)``."""
    async with AsyncExitStack() as stack:

        async def start(flavor: str, height: int, reply: Reply = "ok") -> tuple[str, FakeNode]:
            node = FakeNode(flavor, height, reply)
            app = web.Application()
            app[NODE] = node
            app.add_routes([web.post("/", _rpc)])
            server = await stack.enter_async_context(TestServer(app, host="127.0.0.1"))
            return str(server.make_url("/")), node

        yield start


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


async def probe(url: str, flavor: str, **fields: Any) -> ProbeResult:
    spec = JsonRpcHeightSpec.model_validate(
        {"kind": "jsonrpc_height", "url": url, "flavor": flavor, **fields}
    )
    return await JsonRpcHeightProbe().run(spec)


async def test_an_ethereum_node_in_sync_passes(start_node: StartNode) -> None:
    url, node = await start_node("ethereum", 19_000_000)
    ref_a, _ = await start_node("ethereum", 19_000_001)
    ref_b, _ = await start_node("ethereum", 18_999_990)
    result = await probe(
        url, "ethereum", references=[ref_a, ref_b], conditions=["[HEIGHT_LAG] <= 1"]
    )
    assert result.ok, result.failure_reason
    assert result.observed["HEIGHT"] == 19_000_000
    assert result.observed["REFERENCE_HEIGHT"] == 19_000_001  # the highest reference
    assert result.observed["HEIGHT_LAG"] == 1
    assert result.observed["references_failed"] == 0
    assert 0 < result.observed["RESPONSE_TIME"] < 5000
    call = node.calls[0][0]
    assert (call["jsonrpc"], call["method"], call["params"]) == ("2.0", "eth_blockNumber", [])


async def test_a_bitcoin_node_in_sync_passes_and_only_it_gets_the_headers(
    start_node: StartNode,
) -> None:
    url, node = await start_node("bitcoin", 870_000)
    ref, reference = await start_node("bitcoin", 870_002)
    result = await probe(
        url, "bitcoin", references=[ref], headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert result.ok, result.failure_reason
    assert result.observed["HEIGHT_LAG"] == 2
    call, authorization = node.calls[0]
    assert (call["jsonrpc"], call["method"], call["params"]) == ("1.0", "getblockcount", [])
    assert authorization == "Basic dXNlcjpwYXNz"
    assert reference.calls[0][1] is None  # the node's credentials never leave for a reference


async def test_a_lagging_node_fails_with_its_lag(start_node: StartNode) -> None:
    url, _ = await start_node("ethereum", 100)
    ref, _ = await start_node("ethereum", 110)
    result = await probe(url, "ethereum", references=[ref])
    assert not result.ok
    assert result.observed["HEIGHT_LAG"] == 10
    assert result.error == "10 blocks behind the reference height 110 (max_lag 3)"
    assert (await probe(url, "ethereum", references=[ref], max_lag=10)).ok


async def test_a_node_ahead_of_its_references_passes(start_node: StartNode) -> None:
    url, _ = await start_node("bitcoin", 105)
    ref, _ = await start_node("bitcoin", 100)
    result = await probe(url, "bitcoin", references=[ref])
    assert result.ok, result.failure_reason
    assert result.observed["HEIGHT_LAG"] == -5


async def test_without_references_the_lag_is_zero(start_node: StartNode) -> None:
    url, _ = await start_node("ethereum", 7)
    result = await probe(url, "ethereum", conditions=["[HEIGHT] >= 7", "[HEIGHT_LAG] == 0"])
    assert result.ok, result.failure_reason
    assert result.observed["REFERENCE_HEIGHT"] is None


@pytest.mark.parametrize(
    ("flavor", "reply", "error"),
    [
        ("ethereum", "rpc_error", "RPC error: -32601 the method eth_blockNumber does not exist"),
        (
            "bitcoin",
            "rpc_error",
            "HTTP 500 Internal Server Error: RPC error: -28 Loading block index...",
        ),
        (
            "ethereum",
            "malformed",
            "the result \"0xZZ\" is not a hex block number such as '0x1b4'",
        ),
        (
            "bitcoin",
            "not_json",
            "HTTP 502 Bad Gateway: the reply is not JSON: '<html>502 Bad Gateway</html>'",
        ),
    ],
)
async def test_a_bad_answer_is_a_failure_with_the_reason(
    start_node: StartNode, flavor: str, reply: Reply, error: str
) -> None:
    url, _ = await start_node(flavor, 100, reply)
    result = await probe(url, flavor, conditions=["[HEIGHT] > 0"])
    assert not result.ok
    assert result.error == error
    assert result.observed["HEIGHT"] is None
    assert not result.conditions[0].ok


async def test_all_references_down_fails_and_says_so(start_node: StartNode) -> None:
    url, _ = await start_node("ethereum", 100)
    broken, _ = await start_node("ethereum", 100, "malformed")
    result = await probe(url, "ethereum", references=[_closed_port_url(), broken])
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("all 2 references failed, so the lag is unknown")
    assert "reference 1: ClientConnectorError" in result.error
    assert 'reference 2: the result "0xZZ"' in result.error
    assert result.observed["HEIGHT"] == 100
    assert result.observed["REFERENCE_HEIGHT"] is None
    assert result.observed["HEIGHT_LAG"] is None
    assert result.observed["references_failed"] == 2


async def test_one_reference_down_is_reported_but_does_not_fail(start_node: StartNode) -> None:
    url, _ = await start_node("bitcoin", 100)
    ref, _ = await start_node("bitcoin", 101)
    result = await probe(url, "bitcoin", references=[_closed_port_url(), ref])
    assert result.ok, result.failure_reason
    assert result.observed["references_failed"] == 1
    assert result.observed["REFERENCE_HEIGHT"] == 101


async def test_a_slow_reference_times_out_alone(start_node: StartNode) -> None:
    url, _ = await start_node("ethereum", 100)
    slow, _ = await start_node("ethereum", 100, "slow")
    ref, _ = await start_node("ethereum", 100)
    result = await probe(url, "ethereum", references=[slow, ref], timeout="200ms")
    assert result.ok, result.failure_reason
    assert result.observed["references_failed"] == 1
    assert result.duration_s < 1


async def test_a_slow_node_times_out(start_node: StartNode) -> None:
    url, _ = await start_node("bitcoin", 100, "slow")
    result = await probe(url, "bitcoin", timeout="100ms")
    assert result.error == "timed out after 0.1s"
    assert result.duration_s < 1


async def test_a_refused_node_fails() -> None:
    result = await probe(_closed_port_url(), "ethereum")
    assert result.error is not None and result.error.startswith("ClientConnectorError")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"flavor": "solana"}, "'ethereum' or 'bitcoin'"),
        ({"max_lag": -1}, "greater than or equal to 0"),
        ({"references": ["ftp://x.test/"]}, "URL scheme should be 'http' or 'https'"),
        ({"headers": {"Authorization": "a\nb"}}, "line break"),
        ({"conditions": ["[STATUS] == 200"]}, r"unknown placeholder \[STATUS\]"),
    ],
)
def test_bad_specs_are_refused_at_load(fields: dict[str, Any], problem: str) -> None:
    config = {"kind": "jsonrpc_height", "url": "https://node.test/", "flavor": "ethereum"}
    with pytest.raises(ValidationError, match=problem):
        JsonRpcHeightSpec.model_validate({**config, **fields})


def test_the_kind_registers() -> None:
    registry = Registry()
    registry.register("jsonrpc_height", JsonRpcHeightSpec, JsonRpcHeightProbe)
    assert registry.get("jsonrpc_height").spec is JsonRpcHeightSpec
    assert isinstance(registry.get("jsonrpc_height").factory(), JsonRpcHeightProbe)


def _reply(result: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()


@given(st.integers(min_value=0, max_value=MAX_HEIGHT))
def test_any_height_round_trips(height: int) -> None:
    assert parse_height("ethereum", _reply(hex(height))) == height
    assert parse_height("ethereum", _reply(hex(height).upper().replace("0X", "0x"))) == height
    assert parse_height("bitcoin", _reply(height)) == height


@given(st.integers(min_value=MAX_HEIGHT + 1))
def test_implausible_heights_fail(height: int) -> None:
    with pytest.raises(BadReplyError, match="implausibly large"):
        parse_height("ethereum", _reply(hex(height)))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
)


def _is_height_or_bad_reply(flavor: Literal["ethereum", "bitcoin"], raw: bytes) -> None:
    try:
        height = parse_height(flavor, raw)
    except BadReplyError as error:
        assert str(error)  # a reason in words
    else:
        assert isinstance(height, int) and 0 <= height <= MAX_HEIGHT


@given(st.sampled_from(["ethereum", "bitcoin"]), st.binary())
def test_garbage_bytes_never_raise_anything_else(
    flavor: Literal["ethereum", "bitcoin"], raw: bytes
) -> None:
    _is_height_or_bad_reply(flavor, raw)


@given(st.sampled_from(["ethereum", "bitcoin"]), JSON, JSON)
def test_any_json_result_or_error_is_a_height_or_a_reason(
    flavor: Literal["ethereum", "bitcoin"], result: Any, error: Any
) -> None:
    _is_height_or_bad_reply(flavor, _reply(result))
    _is_height_or_bad_reply(flavor, json.dumps({"result": result, "error": error}).encode())
    _is_height_or_bad_reply(flavor, json.dumps(result).encode())


def test_malformed_hex_and_pathological_bodies_are_reasons() -> None:
    for result in ["0x", "0xZZ", "1b4", " 0x1", "0x1_0", "0x-1", 436]:
        with pytest.raises(BadReplyError, match="is not a hex block number"):
            parse_height("ethereum", _reply(result))
    for result in [-1, True, 1.5, "100"]:
        with pytest.raises(BadReplyError, match="is not a block count"):
            parse_height("bitcoin", _reply(result))
    with pytest.raises(BadReplyError, match="not JSON"):
        parse_height("ethereum", b"[" * 100_000)  # deeper than the JSON parser's stack
