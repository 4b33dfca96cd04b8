"""The ``tcp`` probe: connect, optionally send a line and wait for an expected reply."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from probes.conditions import evaluate_all
from probes.result import ProbeResult
from probes.spec import ProbeSpec

READ_LIMIT = 64 * 1024
RECEIVED_LIMIT = 1024


class TcpSpec(ProbeSpec):
    """A TCP connection, an optional payload to send and an optional text to expect back."""

    kind: Literal["tcp"] = "tcp"
    host: str = Field(min_length=1, description="host name or IP address to connect to")
    port: int = Field(ge=1, le=65535, description="TCP port")
    send: str | None = Field(default=None, description="text sent (UTF-8) once connected")
    expect: str | None = Field(
        default=None,
        min_length=1,
        description=f"text that must arrive within the timeout (at most {READ_LIMIT} bytes read)",
    )

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"CONNECTED", "RESPONSE_TIME", "CONNECT_TIME", "RECEIVED"}
    )

    @model_validator(mode="after")
    def _received_needs_expect(self) -> TcpSpec:
        # The probe reads only while it waits for ``expect``: without it [RECEIVED] is never set.
        if self.expect is None and any(
            "RECEIVED" in c.placeholder_names() for c in self.conditions
        ):
            raise ValueError("[RECEIVED] needs `expect`: the probe reads only what it expects")
        return self


class TcpProbe:
    """Runs TcpSpecs on a fresh connection each time."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: TcpSpec) -> ProbeResult:
        """Connect, exchange, and evaluate the conditions; errors become failed results."""
        started = time.perf_counter()
        observed: dict[str, Any] = {"CONNECTED": False}
        try:
            async with asyncio.timeout(spec.timeout):
                found = await _exchange(spec, started, observed)
        except TimeoutError:
            return _failed(started, observed, _timeout_reason(spec, observed))
        except (OSError, ValueError) as error:
            return _failed(started, observed, f"{type(error).__name__}: {error}")
        observed["RESPONSE_TIME"] = _ms_since(started)
        return _judge(spec, observed, found, time.perf_counter() - started, self._clock.time())


async def _exchange(spec: TcpSpec, started: float, observed: dict[str, Any]) -> bool:
    """Connect, send, and read until ``expect``; return whether it was found (True if none)."""
    reader, writer = await asyncio.open_connection(spec.host, spec.port)
    observed.update(CONNECTED=True, CONNECT_TIME=_ms_since(started))
    try:
        if spec.send is not None:
            writer.write(spec.send.encode())
            await writer.drain()
        if spec.expect is None:
            return True
        return await _read_until(reader, spec.expect.encode(), observed)
    finally:
        writer.close()
        with contextlib.suppress(OSError):  # the peer may already have reset the connection
            await writer.wait_closed()


async def _read_until(
    reader: asyncio.StreamReader, needle: bytes, observed: dict[str, Any]
) -> bool:
    """Read until ``needle`` arrives, the peer closes, or READ_LIMIT bytes were read."""
    received = bytearray()
    observed["RECEIVED"] = ""
    while len(received) < READ_LIMIT:
        chunk = await reader.read(READ_LIMIT - len(received))
        if not chunk:
            return False
        received += chunk
        # Kept up to date so that a timeout still reports what did arrive.
        observed["RECEIVED"] = received[:RECEIVED_LIMIT].decode("utf-8", errors="replace")
        if needle in received:
            return True
    return False


def _judge(
    spec: TcpSpec, observed: dict[str, Any], found: bool, duration_s: float, now: float
) -> ProbeResult:
    outcomes = evaluate_all(spec.conditions, {**observed, "NOW": now})
    error = None if found else f"{spec.expect!r} not found in the reply"
    return ProbeResult(
        ok=found and all(o.ok for o in outcomes),
        duration_s=duration_s,
        observed=observed,
        conditions=outcomes,
        error=error,
    )


def _timeout_reason(spec: TcpSpec, observed: dict[str, Any]) -> str:
    if not observed["CONNECTED"]:
        return f"timed out after {spec.timeout:g}s connecting"
    if spec.expect is not None:
        return f"timed out after {spec.timeout:g}s waiting for {spec.expect!r}"
    return f"timed out after {spec.timeout:g}s"


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _failed(started: float, observed: dict[str, Any], reason: str) -> ProbeResult:
    return ProbeResult(
        ok=False, duration_s=time.perf_counter() - started, observed=observed, error=reason
    )
