"""The Grafana channel: one annotation per incident, created when it opens, closed when it ends.

The outbox threads an incident's deliveries (``thread_key``, as for X), so ``delivery.thread``
holds the annotation ids earlier deliveries stored: with none, the channel creates the
annotation (``POST /api/annotations``) and its id becomes the delivery's ``external_id``;
otherwise it updates the newest (``PATCH /api/annotations/{id}``: ``timeEnd`` once resolved,
the tags after a severity change) and stores the same id again. An annotation deleted in
Grafana (404) is created anew. A notice the filter let through before the opening (a minor
incident that became critical) also creates one. ``send`` never raises.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from monitor.config import Config, ConfigError
from monitor.config.notifications import GrafanaChannel
from notifiers.channel import Delivery, SendOutcome
from notifiers.grafana.annotation import JsonObject, annotation_fields
from notifiers.grafana.outcomes import created_id, refused

EpochClock = Callable[[], float]
"""Returns the current time in epoch seconds (``time.time`` in production)."""

TIMEOUT = httpx.Timeout(10.0)  # to connect, and between bytes sent or received
DEADLINE = 20.0  # seconds for a whole request, however slowly Grafana answers


@dataclass(frozen=True, slots=True)
class GrafanaTarget:
    """Where annotations go and how; the token stays out of reprs."""

    url: str  # Grafana's base URL, without the trailing slash
    token: str = field(repr=False)
    token_env: str = "EXWATCH_GRAFANA_TOKEN"  # named in messages about a refused token
    dashboard_uid: str | None = None
    tags: tuple[str, ...] = ("exwatch",)


@dataclass(frozen=True, slots=True)
class _Answer:
    """Grafana's status, headers and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def new_client() -> httpx.AsyncClient:
    """The HTTP client: 10 s timeouts, no redirects, no proxies from the environment."""
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


class GrafanaAnnotator:
    """Creates and updates incident annotations through Grafana's HTTP API."""

    def __init__(
        self,
        target: GrafanaTarget,
        *,
        client: httpx.AsyncClient | None = None,
        clock: EpochClock = time.time,
        deadline: float = DEADLINE,
    ) -> None:
        self._target = target
        self._client = client if client is not None else new_client()
        self._clock = clock
        self._deadline = deadline

    async def send(self, delivery: Delivery) -> SendOutcome:
        """Create or update the incident's annotation; every failure is an outcome."""
        notice = delivery.notice
        if notice.incident is None:
            return SendOutcome.permanent(f"Grafana annotates incidents only, not {notice.kind}")
        try:
            fields = annotation_fields(notice, notice.incident, self._target.tags)
        except Exception as error:  # a notice we cannot render will not render next time
            return SendOutcome.permanent(f"cannot render: {type(error).__name__}: {error}")
        annotation_id = delivery.thread[-1] if delivery.thread else ""
        if annotation_id.isascii() and annotation_id.isdigit():  # ids we stored; goes in a path
            outcome = await self._update(annotation_id, fields)
            if outcome is not None:
                return outcome
        return await self._create(fields)

    async def _create(self, fields: JsonObject) -> SendOutcome:
        """POST a new annotation; its id is the outcome's external id."""
        body = dict(fields)
        if self._target.dashboard_uid is not None:
            body["dashboardUID"] = self._target.dashboard_uid
        answer = await self._request("POST", "/api/annotations", body)
        if isinstance(answer, SendOutcome):
            return answer
        if not 200 <= answer.status < 300:
            return self._refused(answer)
        annotation_id = created_id(answer.body)
        if annotation_id is None:  # created, but unusable: a retry would add a second one
            return SendOutcome.permanent(
                f"Grafana answered without an annotation id: {answer.body!r:.200}"
            )
        return SendOutcome.ok(external_id=annotation_id)

    async def _update(self, annotation_id: str, fields: JsonObject) -> SendOutcome | None:
        """PATCH the annotation; None when Grafana no longer has it (create one instead)."""
        answer = await self._request("PATCH", f"/api/annotations/{annotation_id}", fields)
        if isinstance(answer, SendOutcome):
            return answer
        if 200 <= answer.status < 300:
            return SendOutcome.ok(external_id=annotation_id)
        return None if answer.status == 404 else self._refused(answer)

    def _refused(self, answer: _Answer) -> SendOutcome:
        return refused(
            answer.status, answer.headers, answer.body, self._clock(),
            token_env=self._target.token_env,
        )  # fmt: skip

    async def _request(self, method: str, path: str, body: JsonObject) -> _Answer | SendOutcome:
        """Send one request; a transport failure or timeout is a retryable outcome."""
        headers = {
            "Authorization": f"Bearer {self._target.token}",
            "Accept": "application/json",
            "User-Agent": "exwatch",
        }
        url = self._target.url + path
        try:
            async with asyncio.timeout(self._deadline):
                response = await self._client.request(method, url, json=body, headers=headers)
        except httpx.UnsupportedProtocol as error:
            return SendOutcome.permanent(f"bad Grafana URL: {error}")
        except (httpx.TimeoutException, TimeoutError) as error:
            return SendOutcome.retryable(f"Grafana timed out ({type(error).__name__})")
        except Exception as error:  # refused, reset, DNS...: Grafana may be back soon
            return SendOutcome.retryable(f"Grafana unreachable: {type(error).__name__}: {error}")
        return _Answer(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


def target_of(settings: GrafanaChannel, env: Mapping[str, str]) -> GrafanaTarget:
    """The target for ``settings``; raises ConfigError if the token variable is unset or empty."""
    token = env.get(settings.api_token_env, "")
    if not token:
        raise ConfigError(
            "<environment>",
            [
                f"notifications.grafana.api_token_env: environment variable "
                f"{settings.api_token_env} is not set"
            ],
        )
    return GrafanaTarget(
        str(settings.url).rstrip("/"), token, settings.api_token_env,
        settings.dashboard_uid, settings.tags,
    )  # fmt: skip


def build_grafana_channel(
    config: Config, env: Mapping[str, str], *, clock: EpochClock = time.time
) -> GrafanaAnnotator | None:
    """Build the channel for ``notifications.grafana``; None when it is not configured.

    Raises ConfigError naming ``api_token_env`` when that variable is unset or empty.
    """
    settings = config.notifications.grafana
    if settings is None:
        return None
    return GrafanaAnnotator(target_of(settings, env), clock=clock)
