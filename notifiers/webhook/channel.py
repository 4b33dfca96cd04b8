"""The webhook channel: one signed JSON POST per delivery, to the webhook the outbox chose.

The outbox has already decided (by filter) which webhook gets which notice; the recipient's
``address`` is the webhook's ``name``. One ``httpx.AsyncClient`` serves every webhook; it
follows no redirects and ignores proxy settings in the process environment (a receiver is
reached at the URL in the config, nowhere else). ``send`` never raises.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal, cast

import httpx

from monitor.config import Config, ConfigError
from monitor.config.notifications import Webhook
from notifiers.channel import Delivery, SendOutcome
from notifiers.webhook.payload import JsonObject, exwatch_payload
from notifiers.webhook.responses import EXCERPT_LIMIT, classify
from notifiers.webhook.signing import SIGNATURE_HEADER, signature_header
from notifiers.webhook.slack import slack_payload

EpochClock = Callable[[], float]
"""Returns the current time in epoch seconds (``time.time`` in production)."""

Format = Literal["exwatch", "slack"]
RENDERERS: dict[Format, Callable[[Delivery], JsonObject]] = {
    "exwatch": exwatch_payload,
    "slack": slack_payload,
}
TIMEOUT = httpx.Timeout(10.0)  # to connect, and between bytes sent or received
DEADLINE = 20.0  # seconds for a whole send, however slowly a receiver trickles its answer
READ_LIMIT = 4 * EXCERPT_LIMIT  # bytes of a response body read for the failure reason


@dataclass(frozen=True, slots=True)
class Target:
    """One configured webhook; the URL (Slack's holds a token) and secret stay out of reprs."""

    name: str
    url: str = field(repr=False)
    format: Format = "exwatch"
    secret: bytes | None = field(default=None, repr=False)


def encode(document: JsonObject) -> bytes:
    """Serialize a body as compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def new_client() -> httpx.AsyncClient:
    """The shared HTTP client: 10 s timeouts, no redirects, no proxies from the environment."""
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


class WebhookChannel:
    """Posts each delivery to its webhook, signed when the webhook has a secret."""

    def __init__(
        self,
        targets: Iterable[Target],
        *,
        client: httpx.AsyncClient | None = None,
        clock: EpochClock = time.time,
        deadline: float = DEADLINE,
    ) -> None:
        self._targets = {target.name: target for target in targets}
        self._client = client if client is not None else new_client()
        self._clock = clock
        self._deadline = deadline

    async def send(self, delivery: Delivery) -> SendOutcome:
        """Render, sign and post ``delivery``; every failure is an outcome."""
        target = self._targets.get(delivery.recipient.address)
        if target is None:
            return SendOutcome.permanent(f"no webhook named {delivery.recipient.address!r}")
        try:
            body = encode(RENDERERS[target.format](delivery))
        except Exception as error:  # a notice we cannot render will not render next time
            return SendOutcome.permanent(f"cannot render: {type(error).__name__}: {error}")
        return await self._post(target, self._headers(target, delivery, body), body)

    def _headers(self, target: Target, delivery: Delivery, body: bytes) -> dict[str, str]:
        """The content type, event, idempotency key and, with a secret, the signature."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "exwatch",
            "X-Exwatch-Event": delivery.notice.kind,
            "X-Exwatch-Delivery": str(delivery.id),
        }
        if target.secret is not None:
            headers[SIGNATURE_HEADER] = signature_header(target.secret, int(self._clock()), body)
        return headers

    async def _post(self, target: Target, headers: dict[str, str], body: bytes) -> SendOutcome:
        """POST and classify the answer; transport failures and timeouts are retryable."""
        try:
            async with asyncio.timeout(self._deadline):
                response, start = await self._exchange(target, headers, body)
        except httpx.UnsupportedProtocol as error:
            return SendOutcome.permanent(f"bad webhook URL: {error}")
        except (httpx.TimeoutException, TimeoutError) as error:
            return SendOutcome.retryable(f"timed out ({type(error).__name__})")
        except Exception as error:  # connection refused, reset, DNS, ...: the receiver may return
            return SendOutcome.retryable(f"{type(error).__name__}: {error}")
        return classify(response.status_code, response.headers, start, self._clock())

    async def _exchange(
        self, target: Target, headers: dict[str, str], body: bytes
    ) -> tuple[httpx.Response, bytes]:
        """Send the request; return the response and the start of its body."""
        request = self._client.build_request("POST", target.url, content=body, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            return response, await _read_start(response)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        await self._client.aclose()


async def _read_start(response: httpx.Response, limit: int = READ_LIMIT) -> bytes:
    """Read at most about ``limit`` bytes of a body; a huge or endless answer is not waited for."""
    start = b""
    # httpx types it as an AsyncIterator; it is an async generator, closed when we stop early.
    chunks = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
    async with aclosing(chunks):
        async for chunk in chunks:
            start += chunk
            if len(start) >= limit:
                break
    return start[:limit]


def _secret(webhook: Webhook, env: Mapping[str, str]) -> bytes | None:
    """The signing secret named by ``secret_env``; None when the webhook is unsigned."""
    if webhook.secret_env is None:
        return None
    value = env.get(webhook.secret_env, "")
    return value.encode() if value else None


def _missing_secrets(webhooks: Iterable[Webhook], env: Mapping[str, str]) -> list[str]:
    """One ``path: message`` line per webhook whose secret variable is unset or empty."""
    return [
        f"notifications.webhooks[{index}].secret_env: environment variable "
        f"{webhook.secret_env} is not set (webhook {webhook.name!r})"
        for index, webhook in enumerate(webhooks)
        if webhook.secret_env is not None and not env.get(webhook.secret_env)
    ]


def build_webhook_channel(
    config: Config, env: Mapping[str, str], *, clock: EpochClock = time.time
) -> WebhookChannel | None:
    """Build the channel for ``notifications.webhooks``; None when there are none.

    Raises ConfigError naming every ``secret_env`` variable that is unset or empty.
    """
    webhooks = config.notifications.webhooks
    if not webhooks:
        return None
    missing = _missing_secrets(webhooks, env)
    if missing:
        raise ConfigError("<environment>", missing)
    targets = [Target(w.name, str(w.url), w.format, _secret(w, env)) for w in webhooks]
    return WebhookChannel(targets, clock=clock)
