"""The demo's mailbox: a local SMTP server (aiosmtpd) keeping the newest mails, and a web view.

exwatch's email channel sends to it as to any SMTP server; ``/_demo/mail`` on the simulated
exchange lists what arrived and shows each mail's HTML part, so the demo needs no mail account.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from typing import Any, cast

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

KEEP = 500
# A mail's HTML is shown in a sandbox: no script, no form, no request to anywhere.
_SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


class Mailbox:
    """Keeps the newest ``KEEP`` mails, parsed; aiosmtpd's handler."""

    def __init__(self) -> None:
        self.mails: deque[EmailMessage] = deque(maxlen=KEEP)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Keep the mail."""
        raw = cast(bytes, envelope.content)
        self.mails.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 Message accepted"

    def routes(self) -> Iterator[web.RouteDef]:
        """``/_demo/mail`` (the list, newest first) and ``/_demo/mail/{n}`` (one mail)."""
        yield web.get("/_demo/mail", self._listing)
        yield web.get("/_demo/mail/{n:[0-9]+}", self._one)

    async def _listing(self, _request: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{escape(str(m['Date']))}</td><td>{escape(str(m['To']))}</td>"
            f'<td><a href="/_demo/mail/{n}">{escape(str(m["Subject"]))}</a></td></tr>'
            for n, m in reversed(list(enumerate(self.mails)))
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Demo mailbox</title>"
            "<style>body{font:14px system-ui;margin:1.5rem}td{padding:.2rem .6rem;border-bottom:1px solid #ddd}</style>"
            f"<h1>Demo mailbox ({len(self.mails)})</h1><table>{rows}</table>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _one(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n >= len(self.mails):
            raise web.HTTPNotFound(text="no such mail")
        mail = self.mails[n]
        html = mail.get_body(("html",))
        text = mail.get_body(("plain",))
        body = (
            html.get_content()
            if html is not None
            else f"<pre>{escape(text.get_content() if text else '')}</pre>"
        )
        headers = {"Content-Security-Policy": _SANDBOX}
        return web.Response(text=body, content_type="text/html", headers=headers)


@dataclass
class RunningMailbox:
    """The mailbox's SMTP server, listening on ``port``."""

    mailbox: Mailbox
    port: int
    server: asyncio.Server

    async def stop(self) -> None:
        """Stop listening."""
        self.server.close()
        await self.server.wait_closed()


async def start_mailbox(host: str = "127.0.0.1", port: int = 0) -> RunningMailbox:
    """Listen for SMTP on ``host:port`` (0: a free port) in this event loop."""
    # aiosmtpd logs every SMTP command at INFO: the demo's console is for the scenario.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="demo-mailbox", loop=loop), host, port
    )
    return RunningMailbox(mailbox, server.sockets[0].getsockname()[1], server)
