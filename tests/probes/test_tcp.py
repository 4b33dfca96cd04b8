"""The tcp probe against real local asyncio servers: banner, echo, refusal, silence."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pydantic
import pytest

from probes import ProbeResult, Registry
from probes.tcp import RECEIVED_LIMIT, TcpProbe, TcpSpec

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _banner_then_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 exwatch-test ready\r\n")
    line = await reader.readline()
    writer.write(b"echo: " + line)
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # never says anything; returns when the client goes away
    writer.close()


async def _chatty(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"x" * 5000)
    await writer.drain()
    writer.close()


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def probe(port: int, **fields: object) -> ProbeResult:
    spec = TcpSpec.model_validate({"kind": "tcp", "host": "127.0.0.1", "port": port, **fields})
    return await TcpProbe().run(spec)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_banner_and_an_echo_pass_with_observations() -> None:
    async with serving(_banner_then_echo) as port:
        result = await probe(
            port,
            send="ping\n",
            expect="echo: ping",
            conditions=["[CONNECTED] == true", "[CONNECT_TIME] < 1s", "[RESPONSE_TIME] < 5s"],
        )
    assert result.ok, result.failure_reason
    assert result.observed["CONNECTED"] is True
    assert 0 < result.observed["CONNECT_TIME"] <= result.observed["RESPONSE_TIME"]
    assert result.observed["RECEIVED"].startswith("220 exwatch-test ready")
    assert "echo: ping" in result.observed["RECEIVED"]


async def test_connecting_alone_passes_without_reading() -> None:
    async with serving(_silent) as port:
        result = await probe(port, timeout="2s")
    assert result.ok, result.failure_reason
    assert "RECEIVED" not in result.observed


async def test_a_refused_port_is_a_failed_result() -> None:
    result = await probe(_closed_port())
    assert not result.ok
    assert result.observed == {"CONNECTED": False}
    assert result.error is not None and "ConnectionRefusedError" in result.error


async def test_an_expected_text_that_never_comes_fails_and_shows_what_came() -> None:
    async with serving(_banner_then_echo) as port:
        result = await probe(port, send="ping\n", expect="PONG")
    assert not result.ok
    assert result.error == "'PONG' not found in the reply"
    assert "echo: ping" in result.observed["RECEIVED"]


async def test_a_server_that_never_answers_times_out() -> None:
    async with serving(_silent) as port:
        result = await probe(port, expect="hello", timeout="200ms")
    assert not result.ok
    assert result.error == "timed out after 0.2s waiting for 'hello'"
    assert result.observed["CONNECTED"] is True
    assert result.observed["RECEIVED"] == ""
    assert result.duration_s < 1.5


async def test_received_text_is_truncated() -> None:
    async with serving(_chatty) as port:
        result = await probe(port, expect="y", conditions=["len([RECEIVED]) == 1024"])
    assert result.error == "'y' not found in the reply"
    assert len(result.observed["RECEIVED"]) == RECEIVED_LIMIT
    assert result.conditions[0].ok


async def test_failed_conditions_fail_the_check() -> None:
    async with serving(_banner_then_echo) as port:
        result = await probe(port, expect="ready", conditions=["[CONNECT_TIME] < 0"])
    assert not result.ok
    assert result.error is None
    assert result.failure_reason is not None and "[CONNECT_TIME] < 0" in result.failure_reason


@pytest.mark.parametrize(
    "fields",
    [
        {"port": 0},
        {"port": 65536},
        {"port": 80, "expect": ""},
        {"port": 80, "conditions": ['[RECEIVED] == "x"']},
        {"port": 80, "conditions": ["[STATUS] == 200"]},
    ],
)
def test_bad_specs_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        TcpSpec.model_validate({"kind": "tcp", "host": "127.0.0.1", **fields})


async def test_the_kind_registers_and_runs_through_a_registry() -> None:
    registry = Registry()
    registry.register("tcp", TcpSpec, TcpProbe)
    kind = registry.get("tcp")
    async with serving(_banner_then_echo) as port:
        spec = kind.spec.model_validate({"kind": "tcp", "host": "127.0.0.1", "port": port})
        result = await kind.factory().run(spec)
    assert result.ok, result.failure_reason
