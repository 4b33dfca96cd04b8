"""Times the TLS handshake of an https probe, which aiohttp's trace hooks lump into "connect".

Python lets an SSLContext choose the class of its SSL objects; ours notes when the handshake
started and finished and reports it to the handshake timer of the probe run that opened the
connection. The timer travels in a context variable: asyncio runs the connection's callbacks in
a copy of the context of the task that created it.
"""

from __future__ import annotations

import contextvars
import functools
import ssl
import time
from collections.abc import Callable

HandshakeSink = Callable[[float], None]
"""Receives a completed handshake's duration in seconds."""

CURRENT_SINK: contextvars.ContextVar[HandshakeSink | None] = contextvars.ContextVar(
    "exwatch_tls_handshake_sink", default=None
)


class TimedSSLObject(ssl.SSLObject):
    """An SSLObject that times its handshake and reports it to the run that opened it."""

    _started: float | None = None
    _sink: HandshakeSink | None = None

    def do_handshake(self) -> None:
        """Drive the handshake (called until it completes), timing first call to completion."""
        if self._started is None:
            self._started = time.perf_counter()
            self._sink = CURRENT_SINK.get()
        super().do_handshake()
        if self._sink is not None:
            self._sink(time.perf_counter() - self._started)
            self._sink = None


@functools.cache
def timed_context(verify: bool) -> ssl.SSLContext:
    """Return a (shared) client context whose SSL objects time their handshake."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.sslobject_class = TimedSSLObject
    return context
