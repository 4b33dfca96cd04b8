"""Phase timings of one HTTP request (dns, connect, first byte, total) from aiohttp's trace hooks."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import aiohttp


class PhaseTimer:
    """Marks the moments of one request; a fresh timer goes with every request."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {"start": time.perf_counter()}
        self.tls_seconds: float | None = None  # reported by the SSL object (see tls_timing)

    def record_tls(self, seconds: float) -> None:
        """Note the TLS handshake's duration (the last one, after a redirect)."""
        self.tls_seconds = seconds

    def mark(self, name: str) -> None:
        """Record that ``name`` happened now (a redirect's later hop overwrites the earlier)."""
        self.marks[name] = time.perf_counter()

    def phases(self) -> dict[str, float]:
        """Return the phases in seconds; a phase that did not happen is left out.

        aiohttp reports one connection-creation span (dns + TCP connect + TLS handshake); the
        handshake is timed separately and taken out of ``connect``.
        """
        marks, end = self.marks, time.perf_counter()
        phases = {"total": end - marks["start"]}
        dns = _span(marks, "dns_start", "dns_end")
        connection = _span(marks, "connect_start", "connect_end")
        if dns is not None:
            phases["dns"] = dns
        if self.tls_seconds is not None:
            phases["tls"] = self.tls_seconds
        if connection is not None:
            phases["connect"] = max(0.0, connection - (dns or 0.0) - (self.tls_seconds or 0.0))
        first_byte = _span(marks, "headers_sent", "headers_received")
        if first_byte is not None:
            phases["first_byte"] = first_byte
        return phases


def _span(marks: dict[str, float], begin: str, end: str) -> float | None:
    if begin in marks and end in marks and marks[end] >= marks[begin]:
        return marks[end] - marks[begin]
    return None


def _marker(name: str) -> Any:
    async def on_event(
        _session: aiohttp.ClientSession, context: SimpleNamespace, _params: Any
    ) -> None:
        timer = context.trace_request_ctx
        if isinstance(timer, PhaseTimer):
            timer.mark(name)

    return on_event


def build_trace_config() -> aiohttp.TraceConfig:
    """Return a TraceConfig that marks each phase on the PhaseTimer passed as trace_request_ctx."""
    config = aiohttp.TraceConfig()
    config.on_dns_resolvehost_start.append(_marker("dns_start"))
    config.on_dns_resolvehost_end.append(_marker("dns_end"))
    config.on_connection_create_start.append(_marker("connect_start"))
    config.on_connection_create_end.append(_marker("connect_end"))
    config.on_request_headers_sent.append(_marker("headers_sent"))
    config.on_request_end.append(_marker("headers_received"))
    config.freeze()
    return config
