"""A loopback TCP proxy a test can cut and restore, to play a network between agent and server.

``cut()`` breaks every connection and refuses new ones at once (as a dropped link the OS
notices); ``lose_answers()`` forwards requests but drops every byte coming back (the server
acts, the client never learns it did); ``restore()`` lets traffic through again.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator

_CHUNK = 65536


class Link(enum.Enum):
    """What the proxy does with traffic now."""

    UP = "up"
    CUT = "cut"
    ANSWERS_LOST = "answers lost"


class CuttableProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to ``target_port`` on 127.0.0.1."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.link = Link.UP
        self.connections = 0  # accepted, in any state
        self.lost_answers = 0  # reads from the server dropped while answers were lost

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        assert self._server is not None, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        """Stop listening and break every connection."""
        self._abort_all()
        if self._server is not None:
            self._server.close()
            await asyncio.wait_for(self._server.wait_closed(), 5)

    def cut(self) -> None:
        """Break every connection now and refuse new ones until ``restore``."""
        self.link = Link.CUT
        self._abort_all()

    def lose_answers(self) -> None:
        """Forward requests but drop what comes back, until ``restore`` or ``cut``."""
        self.link = Link.ANSWERS_LOST

    def restore(self) -> None:
        """Let traffic through again (connections broken meanwhile stay broken)."""
        self.link = Link.UP

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.link is Link.CUT:
            writer.transport.abort()
            return
        try:
            async with asyncio.timeout(5):
                upstream = await asyncio.open_connection("127.0.0.1", self._target_port)
        except (OSError, TimeoutError):
            writer.transport.abort()
            return
        async with self._tracked(writer, upstream[1]):
            pipes = {
                asyncio.create_task(self._pipe(reader, upstream[1], answers=False)),
                asyncio.create_task(self._pipe(upstream[0], writer, answers=True)),
            }
            # One side closing (or failing) ends the connection: the finally aborts both.
            _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.wait(pipes, timeout=5)

    @contextlib.asynccontextmanager
    async def _tracked(self, *writers: asyncio.StreamWriter) -> AsyncIterator[None]:
        self._writers.update(writers)
        try:
            yield
        finally:
            for writer in writers:
                self._writers.discard(writer)
                writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, answers: bool
    ) -> None:
        # Ends when either side closes; every read waits at most a minute (tests are shorter).
        with contextlib.suppress(OSError, TimeoutError):
            while True:
                async with asyncio.timeout(60):
                    data = await reader.read(_CHUNK)
                if not data or self.link is Link.CUT:
                    return
                if answers and self.link is Link.ANSWERS_LOST:
                    self.lost_answers += 1  # the server answered; the client never hears it
                    continue
                writer.write(data)
                await writer.drain()
