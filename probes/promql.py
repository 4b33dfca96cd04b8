"""The ``promql`` probe: one instant query to a Prometheus server's HTTP API, then the conditions.

``GET {server}/api/v1/query?query=...`` with httpx. A vector result is judged like scraped
samples (``aggregate``: all, any, sum, max, min, count over the series); a scalar result is
one VALUE. Prometheus's own errors (a bad query, a timeout) become failed results that
quote Prometheus's words; an empty vector fails unless ``empty_ok`` is set.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, Field, HttpUrl, TypeAdapter, ValidationError

from probes.headers import Headers
from probes.prometheus_scrape import Aggregate, Sample, judge_samples
from probes.result import ProbeResult
from probes.spec import ProbeSpec

MAX_BODY = 4 * 1024 * 1024


class PromqlSpec(ProbeSpec):
    """A PromQL instant query, how to read its series, and what they must satisfy."""

    kind: Literal["promql"] = "promql"
    server: HttpUrl = Field(description="the Prometheus base URL, e.g. http://prometheus:9090")
    query: str = Field(min_length=1, description="a PromQL expression, evaluated now")
    headers: Headers = Field(default_factory=dict)
    aggregate: Aggregate = Field(
        default="all", description="all, any, or one evaluation on the sum, max, min or count"
    )
    empty_ok: bool = Field(default=False, description="an empty result passes, unjudged")

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"VALUE", "SERIES", "RESPONSE_TIME", "STATUS"}
    )


class _Data(BaseModel):
    result_type: str = Field(alias="resultType")
    result: Any = None


class _Envelope(BaseModel):
    """The API's answer around every result."""

    status: Literal["success", "error"]
    data: _Data | None = None
    error_type: str = Field(default="", alias="errorType")
    error: str = ""


class _Series(BaseModel):
    metric: dict[str, str]
    value: tuple[float, float]  # [timestamp, "value"]; pydantic reads "NaN" and "+Inf" too


_ENVELOPE = TypeAdapter(_Envelope)
_VECTOR = TypeAdapter(list[_Series])
_SCALAR = TypeAdapter(tuple[float, float])


class PromqlProbe:
    """Runs PromqlSpecs with one fresh httpx client per run."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: PromqlSpec) -> ProbeResult:
        """Query Prometheus and evaluate the conditions; errors become failed results."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout):
                status, body = await _query(spec)
        except TimeoutError:
            return _failed(started, f"timed out after {spec.timeout:g}s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as error:
            return _failed(started, f"{type(error).__name__}: {error}")
        observed = {"STATUS": status, "RESPONSE_TIME": round(_elapsed(started) * 1000, 3)}
        try:
            samples, scalar = _answer(body, status)
        except ValueError as error:
            return _failed(started, str(error), observed)
        return _judge(
            spec, samples, scalar, observed, duration_s=_elapsed(started), now=self._clock.time()
        )


async def _query(spec: PromqlSpec) -> tuple[int, bytes | None]:
    """GET the query; the body is None when it is larger than MAX_BODY."""
    url = str(spec.server).rstrip("/") + "/api/v1/query"
    # No proxy from the environment: a probe measures the path to the server itself.
    async with (
        httpx.AsyncClient(headers=spec.headers, timeout=None, trust_env=False) as client,
        client.stream("GET", url, params={"query": spec.query}) as response,
    ):
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_BODY:
                return response.status_code, None
        return response.status_code, bytes(body)


def _answer(body: bytes | None, status: int) -> tuple[list[Sample], bool]:
    """Return the result's samples and whether it was a scalar; ValueError says why not."""
    if body is None:
        raise ValueError(f"response larger than {MAX_BODY // 2**20} MiB")
    try:
        return _result(_ENVELOPE.validate_json(body))
    except ValidationError as error:
        if not 200 <= status < 300:
            raise ValueError(f"HTTP {status} from Prometheus") from None
        raise ValueError(f"not a Prometheus API response: {_first_problem(error)}") from None


def _result(envelope: _Envelope) -> tuple[list[Sample], bool]:
    if envelope.status == "error":
        raise ValueError(f"Prometheus error ({envelope.error_type}): {envelope.error}")
    if envelope.data is None:
        raise ValueError("not a Prometheus API response: no data")
    kind, result = envelope.data.result_type, envelope.data.result
    if kind == "scalar":
        return [Sample("", {}, _SCALAR.validate_python(result)[1])], True
    if kind != "vector":
        raise ValueError(f"the query returned a {kind}; this probe reads vectors and scalars")
    return [_sample(series) for series in _VECTOR.validate_python(result)], False


def _sample(series: _Series) -> Sample:
    labels = {k: v for k, v in series.metric.items() if k != "__name__"}
    return Sample(series.metric.get("__name__", ""), labels, series.value[1])


def _judge(
    spec: PromqlSpec,
    samples: list[Sample],
    scalar: bool,
    observed: dict[str, Any],
    *,
    duration_s: float,
    now: float,
) -> ProbeResult:
    observed = {**observed, "SERIES": len(samples)}
    if not samples:
        ok = spec.empty_ok
        error = None if ok else "query returned no series"
        return ProbeResult(ok=ok, duration_s=duration_s, observed=observed, error=error)
    # A scalar is one value whatever the aggregate; the sum of one value is that value.
    aggregate: Aggregate = "sum" if scalar else spec.aggregate
    judgement = judge_samples(spec.conditions, samples, aggregate, {**observed, "NOW": now})
    return ProbeResult(
        ok=judgement.ok,
        duration_s=duration_s,
        observed={**observed, **judgement.observed},
        conditions=judgement.conditions,
    )


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else problem["msg"]


def _elapsed(started: float) -> float:
    return time.perf_counter() - started


def _failed(started: float, reason: str, observed: dict[str, Any] | None = None) -> ProbeResult:
    return ProbeResult(
        ok=False, duration_s=_elapsed(started), observed=observed or {}, error=reason
    )
