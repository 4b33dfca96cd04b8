"""The email channel against a real SMTP server: pooling, outages, refusals, TLS, the factory."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
import yaml

from monitor.config import ConfigError, parse_config
from notifiers.channel import Closable, Outcome
from notifiers.email import MailChannel, build_email_channel
from tests.notifiers.email_support import Sink, SmtpServer, delivery, settings


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    """A running SMTP server."""
    smtp = SmtpServer(Sink())
    await smtp.start()
    yield smtp
    await smtp.stop()


@pytest.fixture
async def channel(server: SmtpServer) -> AsyncIterator[MailChannel]:
    """The email channel pointed at the server, with two pooled connections."""
    mail = MailChannel(settings(server.port, pool_size=2), {})
    yield mail
    await mail.aclose()


async def test_fifty_concurrent_mails_share_two_connections(
    channel: MailChannel, server: SmtpServer
) -> None:
    items = [delivery(delivery_id=n, address=f"user{n}@example.org") for n in range(50)]
    outcomes = await asyncio.gather(*(channel.send(item) for item in items))
    assert {o.outcome for o in outcomes} == {Outcome.OK}
    assert len(server.sink.messages) == 50
    assert len({m["Message-ID"] for m in server.sink.messages}) == 50
    assert server.sink.connections <= 2


async def test_server_down_is_retryable_and_back_up_delivers(
    channel: MailChannel, server: SmtpServer
) -> None:
    assert (await channel.send(delivery(delivery_id=1))).outcome is Outcome.OK
    await server.stop()
    down = await channel.send(delivery(delivery_id=2))
    assert down.outcome is Outcome.RETRYABLE
    assert "127.0.0.1" in down.reason
    await server.start()
    again = await channel.send(delivery(delivery_id=2))
    assert again.outcome is Outcome.OK
    assert [m["Message-ID"] for m in server.sink.messages] == [
        "<delivery-1.42@example.com>",
        "<delivery-2.42@example.com>",
    ]


async def test_a_connection_the_server_dropped_is_reopened(
    channel: MailChannel, server: SmtpServer
) -> None:
    assert (await channel.send(delivery(delivery_id=1))).outcome is Outcome.OK
    server.drop_connections()
    await asyncio.sleep(0.05)
    assert (await channel.send(delivery(delivery_id=2))).outcome is Outcome.OK
    assert len(server.sink.messages) == 2
    assert server.sink.connections == 2


async def test_connection_refused_is_retryable() -> None:
    smtp = SmtpServer(Sink())
    await smtp.start()
    port = smtp.port
    await smtp.stop()
    mail = MailChannel(settings(port, timeout=1.0), {})
    try:
        outcome = await mail.send(delivery())
    finally:
        await mail.aclose()
    assert outcome.outcome is Outcome.RETRYABLE
    assert outcome.external_id is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("550 5.1.1 No such user", Outcome.PERMANENT),
        ("554 5.7.1 Rejected", Outcome.PERMANENT),
        ("450 4.2.1 Mailbox busy, try later", Outcome.RETRYABLE),
    ],
)
async def test_recipient_refusals_by_reply_code(
    channel: MailChannel, server: SmtpServer, reply: str, expected: Outcome
) -> None:
    server.sink.refuse["bob@example.org"] = reply
    outcome = await channel.send(delivery(address="bob@example.org"))
    assert outcome.outcome is expected
    assert outcome.reason.startswith(reply[:3])
    # the refusal left the connection usable for the next mail
    assert (await channel.send(delivery(delivery_id=8))).outcome is Outcome.OK
    assert server.sink.connections == 1


async def test_a_closed_channel_answers_instead_of_raising(server: SmtpServer) -> None:
    mail = MailChannel(settings(server.port), {})
    assert isinstance(mail, Closable)
    await mail.aclose()
    outcome = await mail.send(delivery())
    assert outcome.outcome is Outcome.RETRYABLE
    assert "closed" in outcome.reason


async def test_starttls_and_login_with_credentials_from_the_environment() -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    sink = Sink()
    sink.users["mailer"] = "s3cret"
    smtp = SmtpServer(sink, tls_context=server_tls)
    await smtp.start()
    env = {"SMTP_USER": "mailer", "SMTP_PASSWORD": "s3cret"}
    config = settings(
        smtp.port, security="starttls", username_env="SMTP_USER", password_env="SMTP_PASSWORD"
    )
    mail = MailChannel(config, env, tls_context=client_tls)
    try:
        outcome = await mail.send(delivery())
    finally:
        await mail.aclose()
        await smtp.stop()
    assert outcome.outcome is Outcome.OK, outcome.reason
    assert sink.logins == ["mailer"]
    assert len(sink.messages) == 1


async def test_an_untrusted_certificate_is_retryable() -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    smtp = SmtpServer(Sink(), tls_context=server_tls)
    await smtp.start()
    mail = MailChannel(settings(smtp.port, security="starttls"), {})
    try:
        outcome = await mail.send(delivery())
    finally:
        await mail.aclose()
        await smtp.stop()
    assert outcome.outcome is Outcome.RETRYABLE
    assert smtp.sink.messages == []


def config_with(email: dict[str, Any] | None) -> Any:
    """A minimal config, with ``notifications.email`` when given."""
    document: dict[str, Any] = {
        "site": {"name": "Exchange Status"},
        "components": [
            {"id": "trading-engine", "names": {"ja": "取引エンジン", "en": "Trading engine"},
             "impact_class": "trading"}
        ],
    }  # fmt: skip
    if email is not None:
        document["notifications"] = {"email": email}
    return parse_config(yaml.safe_dump(document))


def test_no_email_section_builds_no_channel() -> None:
    assert build_email_channel(config_with(None), {}) is None


def test_a_missing_credential_names_its_variable() -> None:
    email = {
        "sender": "Exchange Status <status@example.com>",
        "smtp": {"username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD"},
    }
    with pytest.raises(ConfigError) as raised:
        build_email_channel(config_with(email), {"SMTP_USER": "mailer"})
    assert "SMTP_PASSWORD" in str(raised.value)
    assert "mailer" not in str(raised.value)


def test_a_sender_without_an_address_is_a_config_error() -> None:
    email = {"sender": "Exchange Status", "smtp": {"username_env": None, "password_env": None}}
    with pytest.raises(ConfigError, match=r"notifications\.email\.sender"):
        build_email_channel(config_with(email), {})


async def test_the_factory_builds_a_working_channel(server: SmtpServer) -> None:
    email = {
        "sender": "Exchange Status <status@example.com>",
        "smtp": {"host": "127.0.0.1", "port": server.port, "security": "none",
                 "username_env": None, "password_env": None},
    }  # fmt: skip
    mail = build_email_channel(config_with(email), {})
    assert isinstance(mail, MailChannel)
    try:
        assert (await mail.send(delivery())).outcome is Outcome.OK
    finally:
        await mail.aclose()


async def test_bodies_go_as_8bit_once_the_server_offers_8bitmime(
    channel: MailChannel, server: SmtpServer
) -> None:
    for n in (1, 2):
        assert (await channel.send(delivery(delivery_id=n, language="ja"))).outcome is Outcome.OK
    first, second = (
        {str(part["Content-Transfer-Encoding"]) for part in message.iter_parts()}
        for message in server.sink.messages
    )
    assert "8bit" not in first  # before any connection nothing is known: encoded
    assert second == {"8bit"}  # aiosmtpd offers 8BITMIME: Japanese text goes as it is
    assert second and "取引エンジン" in server.sink.messages[1].get_body(("plain",)).get_content()
