"""Email content through a real SMTP server: headers, threading, languages, escaping, links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from monitor.notices import Kind, Text
from notifiers.channel import Delivery, Links, Outcome
from notifiers.email import MailChannel
from notifiers.email.render import Renderer
from tests.notifiers.email_support import (
    Sink,
    SmtpServer,
    delivery,
    incident,
    maintenance,
    notice,
    settings,
)

SUBSCRIBER_LINKS = Links(
    unsubscribe_url="https://status.example.com/unsubscribe?token=abc",
    manage_url="https://status.example.com/manage?token=abc",
)
KINDS: tuple[Kind, ...] = (
    "incident_opened",
    "update_posted",
    "incident_resolved",
    "severity_changed",
    "acknowledged",
    "maintenance_announced",
    "maintenance_started",
    "maintenance_completed",
    "page",
    "reminder",
    "subscription_confirmation",
)


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    """A running SMTP server."""
    smtp = SmtpServer(Sink())
    await smtp.start()
    yield smtp
    await smtp.stop()


@pytest.fixture
async def channel(server: SmtpServer) -> AsyncIterator[MailChannel]:
    """The email channel pointed at the server."""
    mail = MailChannel(settings(server.port), {})
    yield mail
    await mail.aclose()


async def send_one(channel: MailChannel, server: SmtpServer, item: Delivery) -> EmailMessage:
    """Send ``item`` and return the message the server received."""
    outcome = await channel.send(item)
    assert outcome.outcome is Outcome.OK, outcome.reason
    return server.sink.messages[-1]


def text_of(message: EmailMessage) -> str:
    """The plain-text part."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    """The HTML part."""
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


async def test_ids_are_unique_and_an_incident_threads(
    channel: MailChannel, server: SmtpServer
) -> None:
    sent = []
    kinds: tuple[Kind, ...] = ("incident_opened", "update_posted", "incident_resolved")
    for n, kind in enumerate(kinds):
        item = delivery(notice(kind, event_id=100 + n), delivery_id=n, links=SUBSCRIBER_LINKS)
        outcome = await channel.send(item)
        sent.append(outcome.external_id)
    messages = server.sink.messages
    ids = [m["Message-ID"] for m in messages]
    assert ids == sent == ["<delivery-0.100@example.com>", "<delivery-1.101@example.com>",
                           "<delivery-2.102@example.com>"]  # fmt: skip
    assert {m["In-Reply-To"] for m in messages} == {"<incident-3@example.com>"}
    assert {m["References"] for m in messages} == {"<incident-3@example.com>"}
    for message in messages:
        assert message["List-Unsubscribe"] == "<https://status.example.com/unsubscribe?token=abc>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["From"] == "Exchange Status <status@example.com>"
        assert message["To"] == "alice@example.org"
        assert message["Date"].datetime is not None


async def test_maintenance_threads_on_its_own_root(
    channel: MailChannel, server: SmtpServer
) -> None:
    the_notice = notice("maintenance_announced", incident=None, maintenance=maintenance(5))
    message = await send_one(channel, server, delivery(the_notice))
    assert message["References"] == "<maintenance-5@example.com>"
    assert "Scheduled maintenance: Scheduled upgrade" in message["Subject"]
    assert "Trading engine" in text_of(message)


async def test_a_resend_carries_the_same_message_id(
    channel: MailChannel, server: SmtpServer
) -> None:
    first = await channel.send(delivery())
    again = await channel.send(delivery())
    assert first.external_id == again.external_id == "<delivery-7.42@example.com>"
    assert [m["Message-ID"] for m in server.sink.messages] == [first.external_id] * 2


async def test_mail_without_unsubscribe_link_has_no_list_headers(
    channel: MailChannel, server: SmtpServer
) -> None:
    message = await send_one(channel, server, delivery(notice("page")))
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


async def test_multipart_alternative_text_then_html(
    channel: MailChannel, server: SmtpServer
) -> None:
    message = await send_one(channel, server, delivery())
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]


async def test_english(channel: MailChannel, server: SmtpServer) -> None:
    message = await send_one(channel, server, delivery(links=SUBSCRIBER_LINKS))
    assert message["Subject"] == "[Exchange Status] Trading engine: major outage — Investigating"
    text = text_of(message)
    assert "Orders are not being accepted." in text
    assert "Severity: Critical" in text
    assert "Affected components: Trading engine" in text
    assert "2024-05-01 12:04 JST (2024-05-01T03:04:00Z)" in text
    assert "https://status.example.com/incidents/3" in text
    assert "Unsubscribe: https://status.example.com/unsubscribe?token=abc" in text
    assert "Manage your subscription: https://status.example.com/manage?token=abc" in text
    assert "注文" not in text
    html = html_of(message)
    assert '<a href="https://status.example.com/incidents/3">' in html
    assert '<a href="https://status.example.com/unsubscribe?token=abc">' in html


async def test_japanese(channel: MailChannel, server: SmtpServer) -> None:
    message = await send_one(channel, server, delivery(language="ja", links=SUBSCRIBER_LINKS))
    assert message["Subject"] == "[Exchange Status] 取引エンジン: 重大な障害 — 調査中"
    text = text_of(message)
    assert "注文を受け付けられません。" in text
    assert "重大度: 重大" in text
    assert "影響範囲: 取引エンジン" in text
    assert "配信停止: https://status.example.com/unsubscribe?token=abc" in text
    assert "Orders are not" not in text
    assert "取引エンジン" in html_of(message)


async def test_no_language_sends_both_japanese_first(
    channel: MailChannel, server: SmtpServer
) -> None:
    message = await send_one(channel, server, delivery(language=None, links=SUBSCRIBER_LINKS))
    subject = message["Subject"]
    assert subject.index("取引エンジン: 重大な障害") < subject.index("Trading engine: major")
    for body in (text_of(message), html_of(message)):
        assert body.index("注文を受け付けられません。") < body.index("Orders are not being")
        assert body.index("配信停止") < body.index("Unsubscribe")


async def test_markup_is_escaped_in_html_and_plain_in_text(
    channel: MailChannel, server: SmtpServer
) -> None:
    evil = "<script>alert(1)</script> **bold** & co"
    the_notice = notice(incident=incident(title=Text(evil, evil)), body=Text(evil, evil))
    message = await send_one(channel, server, delivery(the_notice))
    html = html_of(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **bold** &amp; co" in html
    text = text_of(message)
    assert evil in text
    assert "&lt;" not in text and "&amp;" not in text
    assert evil in message["Subject"]


async def test_page_mail_leads_with_the_ack_link(channel: MailChannel, server: SmtpServer) -> None:
    ack = "https://status.example.com/ack?token=signed"
    body = Text("重大な障害が未確認: レベル1", "critical incident not acknowledged: level 1")
    the_notice = notice("page", body=body, data={"level": 1, "severity": "critical"})
    message = await send_one(channel, server, delivery(the_notice, links=Links(ack_url=ack)))
    assert message["Subject"].startswith("[Exchange Status] PAGE (Critical): Trading engine")
    text = text_of(message)
    assert text.index(ack) < text.index("Reason: critical incident not acknowledged")
    assert "Why this severity: trading engine down for all users" in text
    assert "Affected components: Trading engine" in text
    assert "Paging level: 1" in text
    assert f'href="{ack}"' in html_of(message)


async def test_confirmation_mail_has_the_link_and_its_expiry(
    channel: MailChannel, server: SmtpServer
) -> None:
    confirm = "https://status.example.com/subscribe/confirm?token=xyz"
    the_notice = notice(
        "subscription_confirmation", incident=None, data={"expires_at": "2024-05-03T03:04:00Z"}
    )
    item = delivery(the_notice, language="ja", links=Links(confirm_url=confirm))
    message = await send_one(channel, server, item)
    assert message["Subject"] == "[Exchange Status] 購読の確認をお願いします"
    assert message["List-Unsubscribe"] is None
    assert message["References"] is None
    text = text_of(message)
    assert confirm in text
    assert "有効期限は2024-05-03 12:04 JST" in text
    assert f'href="{confirm}"' in html_of(message)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", ["ja", "en", None])
def test_every_kind_renders_in_every_language(kind: Kind, language: str | None) -> None:
    the_notice = notice(kind)
    if kind.startswith("maintenance"):
        the_notice = notice(kind, incident=None, maintenance=maintenance())
    rendered = Renderer().render(delivery(the_notice, language=language))
    assert rendered.subject.startswith("[Exchange Status] ")
    assert "\n" not in rendered.subject
    assert rendered.text.strip() and "<" not in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>")


async def test_a_template_in_the_override_directory_wins(
    server: SmtpServer, tmp_path: Path
) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "incident_opened.txt").write_text(
        '{% extends "section.txt" %}{% block subject %}OVERRIDE {{ title }}{% endblock %}'
    )
    config = settings(server.port).model_copy(update={"templates_dir": str(tmp_path)})
    mail = MailChannel(config, {})
    try:
        message = await send_one(mail, server, delivery())
    finally:
        await mail.aclose()
    assert message["Subject"] == "[Exchange Status] OVERRIDE Trading engine: major outage"
    assert "We are investigating" in html_of(message)  # the shipped HTML still serves
