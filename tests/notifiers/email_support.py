"""Email channel test support: notices and deliveries built directly, and a real SMTP server.

``SmtpServer`` runs aiosmtpd on 127.0.0.1 in the test's own event loop, on a random port that
stays the same across ``stop()`` / ``start()``; it keeps every message (parsed back with the
default policy), counts the connections it accepted, and refuses chosen recipients.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP as ServerSMTP  # noqa: N811
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from monitor.config.notifications import EmailChannel, SmtpSettings
from monitor.notices import ComponentRef, IncidentInfo, Kind, MaintenanceInfo, Notice, Text
from notifiers.channel import Delivery, Links, Recipient

SENDER = "Exchange Status <status@example.com>"
AT = datetime(2024, 5, 1, 3, 4, tzinfo=UTC)
TRADING = ComponentRef("trading-engine", Text("取引エンジン", "Trading engine"))
TITLE = Text("取引エンジン: 重大な障害", "Trading engine: major outage")


def incident(incident_id: int = 3, title: Text = TITLE, **changes: Any) -> IncidentInfo:
    """An open critical incident on the trading engine."""
    fields: dict[str, Any] = {
        "id": incident_id,
        "title": title,
        "severity": "critical",
        "status": "investigating",
        "severity_reason": "trading engine down for all users",
        "components": (TRADING,),
        "url": f"https://status.example.com/incidents/{incident_id}",
        "started_at": AT,
    }
    return IncidentInfo(**(fields | changes))


def maintenance(maintenance_id: int = 5) -> MaintenanceInfo:
    """A scheduled maintenance window on the trading engine."""
    return MaintenanceInfo(
        id=maintenance_id,
        title=Text("定期メンテナンス", "Scheduled upgrade"),
        status="scheduled",
        starts_at=AT,
        ends_at=AT.replace(hour=5),
        components=(TRADING,),
        url=f"https://status.example.com/maintenance/{maintenance_id}",
    )


def notice(kind: Kind = "incident_opened", event_id: int = 42, **changes: Any) -> Notice:
    """A notice about ``incident()`` unless told otherwise."""
    fields: dict[str, Any] = {
        "event_id": event_id,
        "kind": kind,
        "at": AT,
        "body": Text("注文を受け付けられません。", "Orders are not being accepted."),
        "site_name": "Exchange Status",
        "site_url": "https://status.example.com",
        "incident": incident(),
        "update_status": "investigating",
    }
    return Notice(**(fields | changes))


def delivery(
    the_notice: Notice | None = None,
    *,
    delivery_id: int = 7,
    address: str = "alice@example.org",
    language: str | None = "en",
    links: Links | None = None,
) -> Delivery:
    """One delivery of ``the_notice`` to ``address`` in ``language``."""
    return Delivery(
        id=delivery_id,
        channel="email",
        recipient=Recipient(f"subscriber:{delivery_id}", address, language),
        notice=the_notice or notice(),
        attempt=1,
        links=links or Links(),
    )


def settings(port: int, **smtp: Any) -> EmailChannel:
    """Email settings for the local server: plain SMTP, a short timeout."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": "none"}
    values |= {"timeout": 5.0, "username_env": None, "password_env": None}
    return EmailChannel(sender=SENDER, smtp=SmtpSettings(**(values | smtp)))


class Sink:
    """The server's handler: keeps messages, refuses listed recipients with their reply."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.connections = 0
        self.users: dict[str, str] = {}
        self.logins: list[str] = []

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        """Accept the recipient unless it is in ``refuse``."""
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Keep the message, parsed back."""
        raw = cast(bytes, envelope.content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """Let in the users in ``users``."""
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in this event loop; ``stop`` drops every open connection."""

    def __init__(self, sink: Sink, tls_context: ssl.SSLContext | None = None) -> None:
        self.sink = sink
        self.port = 0
        self._tls = tls_context
        self._server: asyncio.Server | None = None
        self._open: set[ServerSMTP] = set()

    async def start(self) -> None:
        """Listen (again) on the same port, or a random one the first time."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def _protocol(self) -> ServerSMTP:
        self.sink.connections += 1
        options: dict[str, Any] = {"hostname": "localhost", "loop": asyncio.get_running_loop()}
        if self._tls is not None:
            options |= {"tls_context": self._tls, "require_starttls": True}
            options |= {"authenticator": self.sink.authenticate, "auth_required": True}
        protocol = ServerSMTP(self.sink, **options)
        self._open.add(protocol)
        return protocol

    def drop_connections(self) -> None:
        """Close every open connection from the server's side, as an idle timeout would."""
        for protocol in self._open:
            if protocol.transport is not None:
                protocol.transport.close()
        self._open.clear()

    async def stop(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
            self.drop_connections()
            await self._server.wait_closed()
            self._server = None
        await asyncio.sleep(0.05)  # let the dropped sessions finish
