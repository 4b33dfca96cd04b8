"""The agent's HTTP client for its exwatch server: fetch this region's checks, push results.

Failures come back as two kinds of exception, because the agent treats them differently:
``RetryableError`` (unreachable, 5xx, 401, timeouts) keeps the data for another try;
``RejectedError`` (any other 4xx) means the same request will never succeed.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from monitor.agent.settings import AgentSettings
from monitor.config import CheckConfig
from monitor.config.schema import check_union

log = logging.getLogger(__name__)
# Fields of a check that concern the server (which regions run it, how many must agree).
_SERVER_ONLY_FIELDS = ("regions", "quorum")
_MAX_ERROR_BODY = 300


class AgentApiError(Exception):
    """A call to the exwatch server failed."""


class RetryableError(AgentApiError):
    """The server could not take the request now (down, failing, slow): try again later."""


class UnauthorizedError(RetryableError):
    """The server refused the agent's token; retried, since the operator may fix it server-side."""


class RejectedError(AgentApiError):
    """The server refused the request for good (a 4xx other than 401): do not send it again."""


@dataclass(frozen=True)
class CheckSet:
    """The checks this region runs, and the server's opaque version of that set."""

    version: str
    checks: tuple[CheckConfig, ...]


class AgentApi:
    """Talks to ``/api/agent/*`` on the server with the agent's bearer token."""

    def __init__(self, settings: AgentSettings) -> None:
        self._region = settings.region
        self._client = httpx.AsyncClient(
            base_url=settings.server_url.rstrip("/"),
            headers={"Authorization": f"Bearer {settings.token}"},
            timeout=settings.request_timeout,
        )

    async def __aenter__(self) -> AgentApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch_checks(self) -> CheckSet:
        """Return this region's check set; checks the agent cannot parse are skipped and logged."""
        response = await self._request("GET", "/api/agent/checks", params={"region": self._region})
        try:
            document = response.json()
            version, checks = str(document["version"]), list(document["checks"])
        except (ValueError, KeyError, TypeError) as error:
            raise RetryableError(f"the server sent a malformed check set: {error!r}") from None
        return CheckSet(version, tuple(_parse_checks(checks)))

    async def push(self, payloads: Sequence[str]) -> int:
        """Send results (each a JSON object) in one request; return how many the server accepted."""
        # The payloads are JSON already: splice them in rather than parse and re-encode.
        body = f'{{"region": {json.dumps(self._region)}, "results": [{",".join(payloads)}]}}'
        response = await self._request(
            "POST",
            "/api/agent/results",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            return int(response.json()["accepted"])
        except (ValueError, KeyError, TypeError):
            return len(payloads)  # a 2xx without the count still means the batch arrived

    async def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **options)
        except httpx.TransportError as error:  # connection refused, reset, timed out, ...
            raise RetryableError(f"{method} {path}: {type(error).__name__}: {error}") from None
        _raise_for_status(method, path, response)
        return response


def _raise_for_status(method: str, path: str, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 401:
        raise UnauthorizedError(f"{method} {path}: 401 Unauthorized: the server refused the token")
    text = f"{method} {path}: {status} {response.text[:_MAX_ERROR_BODY]!r}"
    if 400 <= status < 500:
        raise RejectedError(text)
    raise RetryableError(text)


def _parse_checks(raw: list[Any]) -> list[CheckConfig]:
    checks = []
    for item in raw:
        try:
            checks.append(_check_adapter().validate_python(_agent_fields(item)))
        except ValidationError as error:
            # One check this agent cannot run (e.g. a kind it does not know) must not stop the rest.
            log.error("skipping a check the agent cannot parse: %s", _describe(item, error))
    return checks


def _agent_fields(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {k: v for k, v in item.items() if k not in _SERVER_ONLY_FIELDS}


def _describe(item: Any, error: ValidationError) -> str:
    check_id = item.get("id", "?") if isinstance(item, dict) else "?"
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{check_id}: {where}: {first['msg']} ({error.error_count()} error(s))"


@functools.cache
def _check_adapter() -> TypeAdapter[CheckConfig]:
    return TypeAdapter(check_union())
