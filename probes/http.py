"""The ``http`` probe: one request with aiohttp, then the conditions on status, time and body."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any, ClassVar, Literal

import aiohttp
import yarl
from pydantic import Field, HttpUrl

from probes.conditions import evaluate_all
from probes.headers import Headers
from probes.http_phases import PhaseTimer, build_trace_config
from probes.result import ProbeResult
from probes.spec import ProbeSpec
from probes.tls_timing import CURRENT_SINK, timed_context

DEFAULT_BODY_LIMIT = 1024 * 1024
_TRACE = build_trace_config()


class HttpSpec(ProbeSpec):
    """An HTTP request and what its response must satisfy."""

    kind: Literal["http"] = "http"
    url: HttpUrl
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: Headers = Field(default_factory=dict)
    body: str | None = None
    follow_redirects: bool = True
    verify_tls: bool = True
    expect_status: int | None = Field(
        default=None, ge=100, le=599, description="shorthand for the condition [STATUS] == N"
    )
    body_limit: int = Field(default=DEFAULT_BODY_LIMIT, ge=0, description="bytes of body read")

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"STATUS", "RESPONSE_TIME", "DNS_TIME", "CONNECT_TIME", "TLS_TIME", "FIRST_BYTE_TIME"}
        | {"BODY", "SIZE", "TRUNCATED"}
    )


class HttpProbe:
    """Runs HttpSpecs on a fresh connection each time, so connect time is real."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        """Close the client session (the scheduler calls this when it stops)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        # One session for every run: creating a session and connector per request cost more
        # than the request. force_close and no DNS cache keep each run's connect and DNS real.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(force_close=True, limit=0, use_dns_cache=False)
            self._session = aiohttp.ClientSession(connector=connector, trace_configs=[_TRACE])
        return self._session

    async def run(self, spec: HttpSpec) -> ProbeResult:
        """Send the request and evaluate the conditions; errors become failed results."""
        timer = PhaseTimer()
        handshake = CURRENT_SINK.set(timer.record_tls)
        try:
            async with asyncio.timeout(spec.timeout):
                observed = await self._request(spec, timer)
        except TimeoutError:
            return _failed(timer, f"timed out after {spec.timeout:g}s")
        except (aiohttp.ClientError, OSError, ValueError) as error:
            return _failed(timer, f"{type(error).__name__}: {error}")
        finally:
            CURRENT_SINK.reset(handshake)
        phases = timer.phases()
        return _judge(spec, {**observed, **_milliseconds(phases)}, phases, self._clock.time())

    async def _request(self, spec: HttpSpec, timer: PhaseTimer) -> dict[str, Any]:
        async with self._client().request(
            spec.method,
            _url(str(spec.url)),
            headers=spec.headers,
            data=spec.body,
            allow_redirects=spec.follow_redirects,
            ssl=timed_context(spec.verify_tls) if spec.url.scheme == "https" else spec.verify_tls,
            trace_request_ctx=timer,
        ) as response:
            raw, truncated = await _read_capped(response.content, spec.body_limit)
            return {
                "STATUS": response.status,
                "BODY": _decode_body(raw),
                "SIZE": len(raw),
                "TRUNCATED": truncated,
            }


async def _read_capped(stream: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Read up to ``limit`` bytes (``read(n)`` returns what has arrived, not n); True if more remained."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await stream.read(limit - size)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), bool(await stream.read(1))


def _judge(
    spec: HttpSpec, observed: dict[str, Any], phases: dict[str, float], now: float
) -> ProbeResult:
    outcomes = evaluate_all(spec.conditions, {**observed, "NOW": now})
    status_ok = spec.expect_status is None or observed["STATUS"] == spec.expect_status
    error = None if status_ok else f"status {observed['STATUS']}, expected {spec.expect_status}"
    return ProbeResult(
        ok=status_ok and all(o.ok for o in outcomes),
        duration_s=phases["total"],
        observed={k: v for k, v in observed.items() if k != "BODY"},
        conditions=outcomes,
        error=error,
        phases=phases,
    )


@functools.lru_cache(maxsize=16384)
def _url(text: str) -> yarl.URL:
    # Parsing the URL again on every run showed up in profiles; checks have a fixed set.
    return yarl.URL(text)


def _milliseconds(phases: dict[str, float]) -> dict[str, float]:
    """The phase placeholders, in milliseconds like Gatus's [RESPONSE_TIME]."""
    return {
        "RESPONSE_TIME": round(phases["total"] * 1000, 3),
        "DNS_TIME": round(phases.get("dns", 0.0) * 1000, 3),
        "CONNECT_TIME": round(phases.get("connect", 0.0) * 1000, 3),
        "TLS_TIME": round(phases.get("tls", 0.0) * 1000, 3),
        "FIRST_BYTE_TIME": round(phases.get("first_byte", 0.0) * 1000, 3),
    }


def _decode_body(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # deeply nested JSON recurses past the limit
        return text


def _failed(timer: PhaseTimer, reason: str) -> ProbeResult:
    phases = timer.phases()
    return ProbeResult(ok=False, duration_s=phases["total"], error=reason, phases=phases)
