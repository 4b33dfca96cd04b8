"""A uvicorn ``http`` protocol for ``exwatch run`` that answers page requests on the connection.

It answers a request for a snapshot document straight from the connection (no ASGI cycle, no
task), with the answer ``statuspage.routes.Responder`` decides, and hands the connection to
uvicorn's own protocol at the first request it does not answer itself. That took exwatch from
~0.4× to 0.5–0.9× nginx's rate on the same bytes (bench/README.md). ``Responder.served`` counts
each answer (``exwatch_page_requests_total``, one cached child's ``inc()``); a request handed
over is counted once, by the ASGI path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from statuspage.routes import Answer, Responder
from statuspage.snapshot import SnapshotStore

MAX_REQUEST_HEAD = 16 * 1024  # a longer request head goes to uvicorn's protocol
log = logging.getLogger(__name__)


def snapshot_protocol(
    store: SnapshotStore, fallback: type[asyncio.Protocol] | None = None
) -> type[asyncio.Protocol]:
    """Return a uvicorn ``http`` protocol class serving ``store`` ahead of ``fallback``
    (uvicorn's own protocol by default): ``uvicorn.Config(app, http=snapshot_protocol(store))``.
    """
    responder, handed_to = Responder(store), fallback or AutoHTTPProtocol

    class BoundSnapshotProtocol(SnapshotProtocol):
        """``SnapshotProtocol`` serving ``store``."""

        def __init__(self, **uvicorn: Any) -> None:
            super().__init__(responder, handed_to, **uvicorn)

    return BoundSnapshotProtocol


class SnapshotProtocol(asyncio.Protocol):
    """One connection: answers snapshot requests itself, hands everything else to uvicorn.

    It answers only a request that arrives alone (one complete head, no body, nothing after
    it), is for a path in a published snapshot, and is not an upgrade. Anything else (a form
    post, a pipelined burst, an API call, a bad request) and the connection goes, with the
    bytes received, to uvicorn's protocol for good: uvicorn's rules apply from there on.
    """

    def __init__(
        self, responder: Responder, fallback: type[asyncio.Protocol], **uvicorn: Any
    ) -> None:
        self.responder = responder
        self.fallback = fallback
        self._uvicorn = uvicorn  # config, server_state, app_state: handed on as they came
        config = uvicorn.get("config")
        self._keep_alive_seconds = float(getattr(config, "timeout_keep_alive", 5))
        self._server_state: Any = uvicorn.get("server_state")
        self._connections: set[Any] | None = getattr(self._server_state, "connections", None)
        self._transport: Any = None  # asyncio's or uvloop's transport
        self._parser = httptools.HttpRequestParser(self)
        self._buffer = b""
        self._request = _Request()
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start with an empty request; uvicorn counts us among its connections."""
        self._transport = transport
        if self._connections is not None:
            self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self._forget()

    def data_received(self, data: bytes) -> None:
        """Answer a lone request for a snapshot document; hand over anything else."""
        self._cancel_idle()
        buffer = self._buffer + data
        end = buffer.find(b"\r\n\r\n")
        if end < 0 and len(buffer) <= MAX_REQUEST_HEAD:
            self._buffer = buffer  # the rest of the head is on its way
            return
        self._buffer = b""
        lone = end + 4 == len(buffer) <= MAX_REQUEST_HEAD
        answer = self._answer_safely(buffer) if lone else None
        if answer is None:
            self._hand_over(buffer)
            return
        self._write(answer, keep_alive=self._request.keep_alive)

    def pause_writing(self) -> None:
        """A client not reading its answers: stop reading its requests."""
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        """The client caught up."""
        if self._transport is not None:
            self._transport.resume_reading()

    def shutdown(self) -> None:
        """uvicorn is stopping: between requests there is nothing to finish, so close."""
        if self._transport is not None:
            self._transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        """Collect the target."""
        self._request.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect the headers."""
        self._request.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        """Note what the request line and headers decided."""
        request, parser = self._request, self._parser
        request.method = parser.get_method().decode("ascii", "replace")
        request.keep_alive = parser.should_keep_alive()
        request.upgrade = parser.should_upgrade()

    def on_message_complete(self) -> None:
        """The request is whole (it had no body)."""
        self._request.complete = True

    def _answer_safely(self, head: bytes) -> Answer | None:
        try:
            return self._answer(head)
        except Exception:  # uvicorn and the ASGI app will answer it, with their error handling
            log.exception("the snapshot protocol could not answer; handing over to uvicorn")
            return None

    def _answer(self, head: bytes) -> Answer | None:
        """Parse a lone request; return its answer if it is one for the snapshot."""
        self._request = request = _Request()
        try:
            self._parser.feed_data(head)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):  # uvicorn's to refuse
            return None
        if not request.complete or request.upgrade or not self.responder.store.ready:
            return None
        try:
            url = httptools.parse_url(request.url)
        except httptools.HttpParserInvalidURLError:  # OPTIONS *, or worse: uvicorn's to answer
            return None
        path = url.path.decode("ascii", "replace")
        path = unquote(path) if "%" in path else path
        return self.responder.served(request.method, path, url.query or b"", request.headers)

    def _write(self, answer: Answer, *, keep_alive: bool) -> None:
        head = [_STATUS_LINES[answer.status]]
        head += [name + b": " + value + b"\r\n" for name, value in answer.headers]
        head.append(_http_date())
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        self._transport.write(b"".join(head) + answer.body)
        if hasattr(self._server_state, "total_requests"):  # uvicorn's --limit-max-requests
            self._server_state.total_requests += 1
        if keep_alive:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self._keep_alive_seconds, self._close_idle)
        else:
            self._transport.close()

    def _hand_over(self, received: bytes) -> None:
        """Give the connection, and what it sent so far, to uvicorn's protocol."""
        transport, self._transport = self._transport, None
        self._forget()
        protocol = self.fallback(**self._uvicorn)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if received:
            protocol.data_received(received)

    def _close_idle(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _forget(self) -> None:
        self._cancel_idle()
        if self._connections is not None:
            self._connections.discard(self)


class _Request:
    """What the parser told us about the current request."""

    __slots__ = ("complete", "headers", "keep_alive", "method", "upgrade", "url")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.method = ""
        self.keep_alive = False
        self.upgrade = False
        self.complete = False


_STATUS_LINES = {
    200: b"HTTP/1.1 200 OK\r\n",
    304: b"HTTP/1.1 304 Not Modified\r\n",
    404: b"HTTP/1.1 404 Not Found\r\n",
    405: b"HTTP/1.1 405 Method Not Allowed\r\n",
}
_date_cache: list[Any] = [0, b""]


def _http_date() -> bytes:
    """The ``Date`` header line, formatted once a second."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n"]
    line: bytes = _date_cache[1]
    return line
