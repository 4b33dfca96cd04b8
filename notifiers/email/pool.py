"""A small pool of SMTP connections, each reused for many messages and reopened when dropped.

``size`` clients exist from the start and connect on first use; a sender beyond ``size`` waits
for a free one. A connection the server closed is noticed on checkout (or by the send failing
with SMTPServerDisconnected on a reused connection) and opened again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiosmtplib import (
    SMTP,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from notifiers.email.outcomes import describe

log = logging.getLogger(__name__)

CLEAN_FAILURES = (SMTPResponseException, SMTPRecipientsRefused, ValueError)
"""Refusals after which aiosmtplib has reset the envelope: the connection is still good."""


class PoolClosedError(ConnectionError):
    """The pool was closed; nothing more is sent through it."""


class ConnectFailedError(ConnectionError):
    """Reaching, greeting, securing (TLS) or logging in to the server failed."""


class SmtpPool:
    """At most ``size`` SMTP connections, handed out one sender at a time."""

    def __init__(self, new_client: Callable[[], SMTP], size: int, timeout: float) -> None:
        self._clients = [new_client() for _ in range(size)]
        self._idle: asyncio.LifoQueue[SMTP] = asyncio.LifoQueue()  # the warmest first
        for client in self._clients:
            self._idle.put_nowait(client)
        self._timeout = timeout
        self._closed = False
        # Learned from each new connection's EHLO: can bodies go as 8bit (RFC 6152)?
        self.eight_bit = False

    async def send(
        self, message: bytes, *, sender: str, recipient: str, eight_bit: bool = False
    ) -> None:
        """Send ``message`` (the mail's bytes) on a pooled connection; SMTP errors propagate.

        ``eight_bit`` says the message has 8bit bodies: sent with ``BODY=8BITMIME``.
        """
        # Non-ASCII addresses need the server's SMTPUTF8, as aiosmtplib's send_message asks.
        options = [] if (sender + recipient).isascii() else ["SMTPUTF8"]
        if eight_bit:
            options.append("BODY=8BITMIME")
        if self._closed:
            raise PoolClosedError("the SMTP pool is closed")
        # Checked out and back by hand, not by a generator context manager: once per mail.
        client = await self._idle.get()
        try:
            await self._send_on(
                client, message, sender=sender, recipient=recipient, options=options,
                eight_bit=eight_bit,
            )  # fmt: skip
        except BaseException as error:
            if not isinstance(error, CLEAN_FAILURES):
                client.close()  # the conversation's state is unknown: start afresh next time
            raise
        finally:
            self._idle.put_nowait(client)

    async def _send_on(
        self,
        client: SMTP,
        message: bytes,
        *,
        sender: str,
        recipient: str,
        options: list[str],
        eight_bit: bool,
    ) -> None:
        reused = client.is_connected
        if not reused:
            await self._open(client)
        if eight_bit and not client.supports_extension("8bitmime"):
            # Composed for another server: the retry composes it again, encoded.
            raise ConnectFailedError("the server does not take 8bit bodies (8BITMIME)")
        try:
            await client.sendmail(sender, [recipient], message, mail_options=options)
        except SMTPServerDisconnected:
            if not reused:
                raise
            log.info("SMTP connection dropped by the server; reconnecting")
            client.close()
            await self._open(client)
            await client.sendmail(sender, [recipient], message, mail_options=options)

    async def _open(self, client: SMTP) -> None:
        """Connect and greet, and note whether this server takes 8bit bodies."""
        await _connect(client)
        try:
            await client.ehlo()
        except (SMTPException, OSError, TimeoutError) as error:
            raise ConnectFailedError(describe(error)) from error
        self.eight_bit = client.supports_extension("8bitmime")

    async def aclose(self) -> None:
        """Say QUIT on every open connection and close it; later sends fail as closed."""
        self._closed = True
        for client in self._clients:
            await self._quit(client)

    async def _quit(self, client: SMTP) -> None:
        try:
            if client.is_connected:
                await client.quit(timeout=self._timeout)
        except (SMTPException, OSError, TimeoutError):
            log.debug("SMTP QUIT failed; closing the connection anyway")
        finally:
            client.close()


async def _connect(client: SMTP) -> None:
    try:
        await client.connect()
    except (SMTPException, OSError, TimeoutError) as error:
        raise ConnectFailedError(describe(error)) from error
