"""The agent's HTTP client for its exwatch server: fetch this region's checks, push results.

Failures come back as two kinds of exception, because the agent treats them differently:
``RetryableError`` (unreachable, timeouts, 5xx and every 4xx but 422, e.g. from a proxy) keeps
the data for another try, its subclasses saying what the agent should do about it;
``RejectedError`` (422 only: the server understood the batch and refused its content) means the
same request will never succeed.
"""

from __future__ import annotations

import functools
import json
import logging
import re
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
# How the server names a result it refused: ``results[3].check_id: ...`` (its own message) or
# ``"loc": ["body", "results", 3, ...]`` (a validation error of the request body).
_RESULT_INDEX = re.compile(r'results(?:\[|",\s*)(\d+)')
_REDACTED = "<token>"


class AgentApiError(Exception):
    """A call to the exwatch server failed."""


class RetryableError(AgentApiError):
    """The server could not take the request now (down, failing, slow): try again later."""


class UnauthorizedError(RetryableError):
    """The server refused the agent's token; retried, since the operator may fix it server-side."""


class PayloadTooLargeError(RetryableError):
    """413: the batch was too big for the server (or a proxy); retry with smaller batches."""


class UnexpectedStatusError(RetryableError):
    """A status the agent API never answers (400, 403, 404, a redirect...): retried.

    Likely a proxy's or a wrong server URL's answer; dropping results would not fix it.
    """


class RejectedError(AgentApiError):
    """422: the server refused the batch's content for good; do not send it again as it is.

    ``indices`` are the positions in the batch of the results the server named as the cause
    (empty when it named none).
    """

    def __init__(self, message: str, indices: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.indices = indices


@dataclass(frozen=True)
class CheckSet:
    """The checks this region runs, the server's opaque version of that set, and who runs them.

    ``agents`` are the region's live agents as the server saw them (sorted), or None from a
    server that does not share checks between agents: then this agent runs them all.
    """

    version: str
    checks: tuple[CheckConfig, ...]
    agents: tuple[str, ...] | None = None


class AgentApi:
    """Talks to ``/api/agent/*`` on the server with the agent's bearer token."""

    def __init__(
        self, settings: AgentSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._region = settings.region
        self._token = settings.token
        self._agent_id = settings.agent_id
        self._client = httpx.AsyncClient(
            base_url=settings.server_url.rstrip("/"),
            headers={"Authorization": f"Bearer {settings.token}"},
            timeout=settings.request_timeout,
            transport=transport,
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
        params = {"region": self._region}
        if self._agent_id is not None:  # also a heartbeat: the server lists this agent as live
            params["agent"] = self._agent_id
        response = await self._request("GET", "/api/agent/checks", params=params)
        try:
            document = response.json()
            version, checks = str(document["version"]), list(document["checks"])
            agents = _agent_ids(document.get("agents"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise RetryableError(f"the server sent a malformed check set: {error!r}") from None
        return CheckSet(version, tuple(_parse_checks(checks)), agents)

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
        except httpx.HTTPError as error:  # refused, reset, timed out, undecodable body, ...
            raise RetryableError(f"{method} {path}: {type(error).__name__}: {error}") from None
        if not response.is_success:
            raise _status_error(f"{method} {path}", response, self._token)
        return response


def _status_error(request: str, response: httpx.Response, token: str) -> AgentApiError:
    """Return the exception for a non-2xx answer to ``request`` ("METHOD /path")."""
    status = response.status_code
    if status == 401:
        return UnauthorizedError(f"{request}: 401 Unauthorized: the server refused the token")
    # A proxy's error page may echo the request's headers: never let the token into a log.
    body = response.text.replace(token, _REDACTED)
    text = f"{request}: {status} {body[:_MAX_ERROR_BODY]!r}"
    if status == 422:
        return RejectedError(text, _result_indices(body))
    if status == 413:
        return PayloadTooLargeError(text)
    if status in (408, 429) or status >= 500:
        return RetryableError(text)
    return UnexpectedStatusError(text)


def _result_indices(body: str) -> tuple[int, ...]:
    """Return the positions of the results a 422's body names, in order, without repeats."""
    return tuple(dict.fromkeys(int(index) for index in _RESULT_INDEX.findall(body)))


def _agent_ids(raw: Any) -> tuple[str, ...] | None:
    """Return the live agents a check set names; None when the server names none."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(agent, str) for agent in raw):
        raise TypeError(f"agents must be a list of strings, not {raw!r:.100}")
    return tuple(sorted(raw))


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
