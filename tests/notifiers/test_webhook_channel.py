"""The webhook channel against a local receiver that verifies signatures like a real one would."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web

from monitor.config import Config, ConfigError, parse_config
from monitor.notices import Text
from notifiers.channel import Closable, Outcome
from notifiers.registry import Registry
from notifiers.webhook import (
    SIGNATURE_HEADER,
    WEBHOOK_SCHEMA_V1,
    Target,
    WebhookChannel,
    build_webhook_channel,
    verify_signature,
)
from tests.notifiers.test_webhook_payloads import (
    XSS,
    make_delivery,
    make_incident,
    make_notice,
    make_page,
    schema_errors,
)

NOW = 1_800_000_000.0
SECRET = "whsec-ops"


@dataclass
class Answer:
    """What the receiver answers next."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # wait until the test ends instead of answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None  # None: the receiver has no secret for this path

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local webhook endpoint: checks signatures with verify_signature, records every request."""

    base_url: str = ""
    secrets: dict[str, str] = field(default_factory=lambda: {"/hook": SECRET})
    now: float = NOW
    answers: list[Answer] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        secret = self.secrets.get(request.path)
        header = request.headers.get(SIGNATURE_HEADER, "")
        verified = None if secret is None else verify_signature(secret, header, body, self.now)
        self.received.append(Received(request.path, dict(request.headers), body, verified))
        if verified is False:
            return web.Response(status=401, text="bad signature")
        answer = self.answers.pop(0) if self.answers else Answer()
        if answer.hang:
            await self.release.wait()
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{path:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield receiver
    finally:
        receiver.release.set()
        await runner.cleanup()


def make_config(*webhooks: dict[str, Any]) -> Config:
    document = {
        "site": {"name": "Example Exchange"},
        "components": [
            {"id": "api", "names": {"ja": "API", "en": "API"}, "impact_class": "access"}
        ],
        "notifications": {"webhooks": list(webhooks)},
    }
    return parse_config(yaml.safe_dump(document))


@pytest.fixture
async def channel(receiver: Receiver) -> AsyncIterator[WebhookChannel]:
    config = make_config(
        {"name": "ops", "url": f"{receiver.base_url}/hook", "secret_env": "OPS_SECRET"},
        {
            "name": "chat",
            "url": f"{receiver.base_url}/slack",
            "format": "slack",
            "secret_env": None,
        },
    )
    built = build_webhook_channel(config, {"OPS_SECRET": SECRET}, clock=lambda: NOW)
    assert built is not None
    try:
        yield built
    finally:
        await built.aclose()


async def test_a_signed_exwatch_delivery_arrives_verified(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    outcome = await channel.send(make_delivery())
    assert outcome.outcome is Outcome.OK
    [request] = receiver.received
    assert (request.path, request.verified) == ("/hook", True)
    assert request.headers[SIGNATURE_HEADER].startswith(f"t={int(NOW)},v1=")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "exwatch"
    assert request.headers["X-Exwatch-Event"] == "incident_opened"
    assert request.headers["X-Exwatch-Delivery"] == "5001"
    assert schema_errors(request.json(), WEBHOOK_SCHEMA_V1) == []


async def test_a_page_to_a_responder_webhook_carries_what_a_phone_bridge_needs(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    assert (await channel.send(make_page())).outcome is Outcome.OK
    document = receiver.received[0].json()
    assert receiver.received[0].headers["X-Exwatch-Event"] == "page"
    assert document["incident"]["severity"] == "critical"
    assert document["incident"]["severity_reason"]
    assert document["incident"]["components"]
    assert document["links"]["ack_url"] == "https://status.example.com/ack/abc?sig=1"


async def test_a_retry_carries_the_same_delivery_id(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    receiver.answers = [Answer(500), Answer(200)]
    first = await channel.send(make_delivery(attempt=1))
    second = await channel.send(make_delivery(attempt=2))
    assert (first.outcome, second.outcome) == (Outcome.RETRYABLE, Outcome.OK)
    assert [r.headers["X-Exwatch-Delivery"] for r in receiver.received] == ["5001", "5001"]
    assert receiver.received[0].body == receiver.received[1].body


async def test_the_slack_webhook_gets_blocks_and_no_signature(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    assert (await channel.send(make_delivery(webhook="chat"))).outcome is Outcome.OK
    [request] = receiver.received
    assert request.path == "/slack" and SIGNATURE_HEADER not in request.headers
    message = request.json()
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "context", "actions"]


async def test_markup_arrives_as_plain_strings_in_json_and_escaped_for_slack(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    notice = make_notice(incident=make_incident(title=Text(XSS, XSS)))
    await channel.send(make_delivery(notice))
    await channel.send(make_delivery(notice, webhook="chat"))
    exwatch, slack = (r.json() for r in receiver.received)
    assert exwatch["incident"]["title"]["en"] == XSS
    assert "<script>" not in slack["blocks"][1]["text"]["text"] + slack["text"]
    assert "&lt;script&gt;" in slack["text"]


async def test_a_receiver_that_rejects_a_stale_signature_is_a_permanent_failure(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    receiver.now = NOW + 301
    outcome = await channel.send(make_delivery())
    assert receiver.received[0].verified is False
    assert (outcome.outcome, outcome.reason) == (Outcome.PERMANENT, "HTTP 401: bad signature")


async def test_a_500_is_retryable_with_the_reason(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    receiver.answers = [Answer(500, b"<html>\n Internal Server Error\n</html>")]
    outcome = await channel.send(make_delivery())
    assert (outcome.outcome, outcome.reason) == (
        Outcome.RETRYABLE,
        "HTTP 500: <html> Internal Server Error </html>",
    )


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(
    channel: WebhookChannel, receiver: Receiver, status: int
) -> None:
    receiver.answers = [Answer(status, b"slow down", {"Retry-After": "42"})]
    outcome = await channel.send(make_delivery())
    assert (outcome.outcome, outcome.retry_after) == (Outcome.RETRYABLE, 42.0)


async def test_a_404_is_permanent_with_the_status_and_body(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    receiver.answers = [Answer(404, b"no_service")]
    outcome = await channel.send(make_delivery(webhook="chat"))
    assert (outcome.outcome, outcome.reason) == (Outcome.PERMANENT, "HTTP 404: no_service")


async def test_a_huge_error_body_gives_a_short_reason(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    receiver.answers = [Answer(400, b"e" * 5_000_000)]
    outcome = await channel.send(make_delivery())
    assert outcome.outcome is Outcome.PERMANENT and len(outcome.reason) < 220


async def test_redirects_are_not_followed(channel: WebhookChannel, receiver: Receiver) -> None:
    receiver.answers = [Answer(307, b"", {"Location": f"{receiver.base_url}/elsewhere"})]
    outcome = await channel.send(make_delivery())
    assert outcome.outcome is Outcome.PERMANENT and "/elsewhere" in outcome.reason
    assert [r.path for r in receiver.received] == ["/hook"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused_is_retryable() -> None:
    target = Target("ops", f"http://127.0.0.1:{_closed_port()}/hook", secret=b"x")
    channel = WebhookChannel([target], clock=lambda: NOW)
    try:
        outcome = await channel.send(make_delivery())
    finally:
        await channel.aclose()
    assert outcome.outcome is Outcome.RETRYABLE and "ConnectError" in outcome.reason


async def test_a_receiver_that_never_answers_times_out_as_retryable(receiver: Receiver) -> None:
    receiver.answers = [Answer(hang=True)]
    client = httpx.AsyncClient(timeout=0.2)
    channel = WebhookChannel([Target("ops", f"{receiver.base_url}/other")], client=client)
    try:
        outcome = await channel.send(make_delivery())
    finally:
        await channel.aclose()
    assert (outcome.outcome, outcome.reason) == (Outcome.RETRYABLE, "timed out (ReadTimeout)")


async def test_an_unknown_webhook_name_is_permanent(
    channel: WebhookChannel, receiver: Receiver
) -> None:
    outcome = await channel.send(make_delivery(webhook="gone"))
    assert (outcome.outcome, outcome.reason) == (Outcome.PERMANENT, "no webhook named 'gone'")
    assert receiver.received == []


def test_no_webhooks_builds_no_channel() -> None:
    assert build_webhook_channel(make_config(), {}) is None


def test_a_missing_secret_is_an_error_naming_the_variable() -> None:
    config = make_config(
        {"name": "ops", "url": "http://127.0.0.1:9/a", "secret_env": "OPS_SECRET"},
        {"name": "bridge", "url": "http://127.0.0.1:9/b", "secret_env": "BRIDGE_SECRET"},
    )
    with pytest.raises(ConfigError) as caught:
        build_webhook_channel(config, {"OPS_SECRET": ""})
    assert caught.value.problems == [
        "notifications.webhooks[0].secret_env: environment variable OPS_SECRET is not set (webhook 'ops')",
        "notifications.webhooks[1].secret_env: environment variable BRIDGE_SECRET is not set (webhook 'bridge')",
    ]


async def test_the_registry_builds_it_and_shutdown_closes_its_client() -> None:
    registry = Registry()
    registry.register("webhook", build_webhook_channel)
    channels = registry.build(
        make_config({"name": "ops", "url": "http://127.0.0.1:9/a", "secret_env": None}), {}
    )
    channel = channels["webhook"]
    assert isinstance(channel, WebhookChannel) and isinstance(channel, Closable)
    await channel.aclose()
    assert channel._client.is_closed
    assert "secret" not in repr(
        Target("ops", "https://hooks.slack.com/services/T/B/secret", secret=b"secret")
    )


async def test_a_whole_send_has_a_deadline(receiver: Receiver) -> None:
    receiver.answers = [Answer(hang=True)]
    channel = WebhookChannel([Target("ops", f"{receiver.base_url}/other")], deadline=0.2)
    try:
        outcome = await channel.send(make_delivery())
    finally:
        await channel.aclose()
    assert (outcome.outcome, outcome.reason) == (Outcome.RETRYABLE, "timed out (TimeoutError)")
