"""The ``websocket`` probe: connect, optionally subscribe, and wait for a (matching) message.

A socket that is up but silent, or that only sends heartbeats, or whose data is stale, is
what breaks a market-data feed; so the probe passes only when a message that matches
arrives in time, and conditions such as ``age([MESSAGE].ts) < 10s`` can judge its content.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import aiohttp
import jsonpath
from pydantic import Field, JsonValue, WebsocketUrl, field_validator, model_validator

from probes.conditions import evaluate_all
from probes.durations import Duration
from probes.headers import Headers
from probes.result import ProbeResult
from probes.spec import ProbeSpec

PREVIEW_CHARS = 200
_DATA_TYPES = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)
_CLOSE_TYPES = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


class WebsocketSpec(ProbeSpec):
    """A websocket to connect to, what to send once connected, and which message to wait for."""

    kind: Literal["websocket"] = "websocket"
    url: WebsocketUrl
    headers: Headers = Field(default_factory=dict, description="sent with the handshake")
    subscribe: dict[str, JsonValue] | str | None = Field(
        default=None,
        description="sent right after connecting: an object as JSON, a string as it is",
    )
    message_within: Duration = Field(
        default=10.0, gt=0, description="how long after connecting a matching message may take"
    )
    match_path: str | None = Field(
        default=None,
        description="JSONPath a message must have to count, e.g. $.type (others are skipped)",
    )
    match_value: str | int | float | bool | None = Field(
        default=None, description="the value required at match_path; omitted: any value"
    )
    verify_tls: bool = True

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"CONNECTED", "MESSAGE", "MESSAGES", "RESPONSE_TIME", "CONNECT_TIME"}
    )

    @field_validator("match_path")
    @classmethod
    def _valid_json_path(cls, path: str | None) -> str | None:
        if path is not None:
            try:
                jsonpath.compile(path)
            except jsonpath.JSONPathError as error:
                raise ValueError(f"match_path {path!r} is not a JSONPath: {error}") from None
        return path

    @model_validator(mode="after")
    def _value_needs_path(self) -> WebsocketSpec:
        if self.match_value is not None and self.match_path is None:
            raise ValueError("match_value needs match_path (where in the message to look)")
        return self


@dataclass(slots=True)
class _Progress:
    """What one run has seen so far; kept when the run fails half way."""

    connected: bool = False
    connect_ms: float | None = None
    messages: int = 0
    matched: bool = False
    message: Any = None
    response_ms: float | None = None
    size: int = 0
    preview: str = ""

    def context(self) -> dict[str, Any]:
        """Return the placeholders known so far (unknown ones stay absent, so conditions fail)."""
        context: dict[str, Any] = {"CONNECTED": self.connected, "MESSAGES": self.messages}
        if self.connect_ms is not None:
            context["CONNECT_TIME"] = self.connect_ms
        if self.matched:
            context["MESSAGE"] = self.message
            context["RESPONSE_TIME"] = self.response_ms
        return context

    def summary(self) -> dict[str, Any]:
        """Return the observations to store: the message's size and start, never all of it."""
        observed = {k: v for k, v in self.context().items() if k != "MESSAGE"}
        if self.matched:
            observed["message_size"] = self.size
            observed["message_preview"] = self.preview
        return observed


class WebsocketProbe:
    """Runs WebsocketSpecs on a fresh connection each time."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: WebsocketSpec) -> ProbeResult:
        """Connect, subscribe, wait for a matching message; errors become failed results."""
        started = time.perf_counter()
        progress = _Progress()
        try:
            async with asyncio.timeout(spec.timeout):
                error = await _watch(spec, progress, started)
        except TimeoutError:  # after a match it can only be the close handshake: not our problem
            error = None if progress.matched else _timeout_reason(spec, progress)
        except (aiohttp.ClientError, OSError, ValueError) as problem:
            error = f"{type(problem).__name__}: {problem}"
        duration_s = time.perf_counter() - started
        context = {**progress.context(), "NOW": self._clock.time()}
        outcomes = evaluate_all(spec.conditions, context)
        return ProbeResult(
            ok=error is None and all(o.ok for o in outcomes),
            duration_s=duration_s,
            observed=progress.summary(),
            conditions=outcomes,
            error=error,
        )


async def _watch(spec: WebsocketSpec, progress: _Progress, started: float) -> str | None:
    """Return None once a matching message arrived, else why none did."""
    connector = aiohttp.TCPConnector(force_close=True, ssl=spec.verify_tls)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.ws_connect(str(spec.url), headers=spec.headers) as socket,
    ):
        connected_at = time.perf_counter()
        progress.connected = True
        progress.connect_ms = _ms(connected_at - started)
        if isinstance(spec.subscribe, str):
            await socket.send_str(spec.subscribe)
        elif spec.subscribe is not None:
            await socket.send_json(spec.subscribe)
        try:
            async with asyncio.timeout(spec.message_within):
                return await _read_until_match(socket, spec, progress, connected_at)
        except TimeoutError:  # message_within ran out; the overall timeout surfaces in run()
            return f"no {_wanted(spec)} within {spec.message_within:g}s{_skipped(progress)}"


async def _read_until_match(
    socket: aiohttp.ClientWebSocketResponse,
    spec: WebsocketSpec,
    progress: _Progress,
    connected_at: float,
) -> str | None:
    """Read messages until one matches (None) or the socket closes or fails (the reason)."""
    matches = _matcher(spec)
    while True:
        message = await socket.receive()
        if message.type in _DATA_TYPES:
            progress.messages += 1
            payload = _decode(message.data)
            if matches(payload):
                _record(progress, payload, message.data, connected_at)
                return None
        elif message.type == aiohttp.WSMsgType.ERROR:
            return f"websocket error: {message.data}"
        elif message.type in _CLOSE_TYPES:
            return (
                f"the server closed the websocket (code {socket.close_code}) "
                f"before a {_wanted(spec)} arrived{_skipped(progress)}"
            )


def _matcher(spec: WebsocketSpec) -> Callable[[Any], bool]:
    """Return a predicate saying whether a decoded message is the one the check waits for."""
    if spec.match_path is None:
        return lambda _: True
    path = jsonpath.compile(spec.match_path)
    expected = spec.match_value

    def matches(payload: Any) -> bool:
        if not isinstance(payload, dict | list):
            return False
        try:
            found = path.findall(payload)
        except jsonpath.JSONPathError:  # e.g. a filter comparing mismatched types
            return False
        return bool(found) and (expected is None or any(_same(v, expected) for v in found))

    return matches


def _same(found: Any, expected: str | float | bool) -> bool:
    """Equality that keeps true apart from 1, as JSON does."""
    if isinstance(found, bool) or isinstance(expected, bool):
        return found is expected
    return bool(found == expected)


def _decode(data: str | bytes) -> Any:
    """Return the message as JSON when it is JSON, else as text."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # deeply nested JSON exhausts the parser's stack
        return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _record(progress: _Progress, payload: Any, data: str | bytes, connected_at: float) -> None:
    raw = data.encode() if isinstance(data, str) else data
    progress.matched = True
    progress.message = payload
    progress.response_ms = _ms(time.perf_counter() - connected_at)
    progress.size = len(raw)
    progress.preview = raw[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[:PREVIEW_CHARS]


def _timeout_reason(spec: WebsocketSpec, progress: _Progress) -> str:
    if not progress.connected:
        return f"timed out after {spec.timeout:g}s connecting"
    return f"timed out after {spec.timeout:g}s: no {_wanted(spec)} yet{_skipped(progress)}"


def _wanted(spec: WebsocketSpec) -> str:
    if spec.match_path is None:
        return "message"
    if spec.match_value is None:
        return f"message with {spec.match_path}"
    return f"message with {spec.match_path} == {spec.match_value!r}"


def _skipped(progress: _Progress) -> str:
    if progress.messages == 0:
        return ""
    plural = "" if progress.messages == 1 else "s"
    return f" ({progress.messages} other message{plural} skipped)"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
