"""The ``prometheus_scrape`` probe: fetch a ``/metrics`` page and judge the samples a selector picks.

The page is read with aiohttp (at most 4 MiB) and parsed with prometheus-client's parser.
``aggregate`` says how the matching samples meet the conditions: ``all`` (every sample,
the default), ``any`` (at least one), or once on their ``sum``, ``max``, ``min`` or ``count``.
The sample judging here is shared with the ``promql`` probe.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from pydantic import Field, HttpUrl

from probes.conditions import Condition, evaluate_all
from probes.headers import Headers
from probes.result import ConditionOutcome, ProbeResult
from probes.selectors import Selector, SelectorField, format_sample
from probes.spec import ProbeSpec

MAX_BODY = 4 * 1024 * 1024
MAX_DETAIL = 200
# Ask for the classic text format: servers that also speak OpenMetrics or protobuf pick by Accept.
_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

Aggregate = Literal["all", "any", "sum", "max", "min", "count"]


class PrometheusScrapeSpec(ProbeSpec):
    """A ``/metrics`` URL, the samples to pick from it and what they must satisfy."""

    kind: Literal["prometheus_scrape"] = "prometheus_scrape"
    url: HttpUrl = Field(description="the exposition to fetch, e.g. http://host:9100/metrics")
    headers: Headers = Field(default_factory=dict)
    select: SelectorField = Field(description='samples to judge: metric{label="value"}')
    aggregate: Aggregate = Field(
        default="all", description="all, any, or one evaluation on the sum, max, min or count"
    )

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"VALUE", "SAMPLES", "RESPONSE_TIME", "STATUS"}
    )


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample: metric name, labels and value."""

    name: str
    labels: Mapping[str, str]
    value: float

    def describe(self) -> str:
        """Return the sample as Prometheus writes it, e.g. ``up{job="api"}``."""
        return format_sample(self.name, self.labels)


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether samples met the conditions, the outcomes shown, and what to add to observed."""

    ok: bool
    conditions: tuple[ConditionOutcome, ...]
    observed: dict[str, Any]


def judge_samples(
    conditions: tuple[Condition, ...],
    samples: Sequence[Sample],
    aggregate: Aggregate,
    context: Mapping[str, Any],
) -> Judgement:
    """Evaluate ``conditions`` on non-empty ``samples`` as ``aggregate`` says, VALUE set."""
    if aggregate == "all":
        return _judge_all(conditions, samples, context)
    if aggregate == "any":
        return _judge_any(conditions, samples, context)
    value = _aggregate(aggregate, [sample.value for sample in samples])
    outcomes = evaluate_all(conditions, {**context, "VALUE": value})
    return Judgement(all(o.ok for o in outcomes), outcomes, {"VALUE": value})


def _judge_all(
    conditions: tuple[Condition, ...], samples: Sequence[Sample], context: Mapping[str, Any]
) -> Judgement:
    """Every sample must pass; the first failing one is reported, with how many failed."""
    judged = [(s, evaluate_all(conditions, {**context, "VALUE": s.value})) for s in samples]
    failing = [(s, outcomes) for s, outcomes in judged if not all(o.ok for o in outcomes)]
    sample, outcomes = failing[0] if failing else judged[0]
    observed = {"VALUE": sample.value, "SAMPLE": sample.describe(), "FAILING": len(failing)}
    return Judgement(not failing, outcomes, observed)


def _judge_any(
    conditions: tuple[Condition, ...], samples: Sequence[Sample], context: Mapping[str, Any]
) -> Judgement:
    """One passing sample is enough; when none passes, the first sample is reported."""
    judged = [(s, evaluate_all(conditions, {**context, "VALUE": s.value})) for s in samples]
    passing = next(((s, o) for s, o in judged if all(x.ok for x in o)), None)
    sample, outcomes = passing or judged[0]
    observed = {"VALUE": sample.value, "SAMPLE": sample.describe()}
    return Judgement(passing is not None, outcomes, observed)


def _aggregate(how: Aggregate, values: list[float]) -> float:
    if how == "count":
        return len(values)
    if how == "sum":
        return sum(values)
    # Like Prometheus, max and min skip NaN unless every value is NaN.
    numbers = [v for v in values if not math.isnan(v)]
    if not numbers:
        return math.nan
    return max(numbers) if how == "max" else min(numbers)


def select_samples(exposition: bytes, selector: Selector) -> list[Sample]:
    """Return the samples of a text exposition that ``selector`` picks; ValueError if unparsable."""
    text = exposition.decode("utf-8")  # the format is UTF-8; a decode error is a ValueError
    return [
        Sample(sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if selector.matches(sample.name, sample.labels)
    ]


@dataclass(frozen=True, slots=True)
class _Scrape:
    """What one fetch saw; ``problem`` says why there are no samples to judge."""

    status: int
    response_ms: float
    samples: list[Sample]
    problem: str | None = None


class PrometheusScrapeProbe:
    """Runs PrometheusScrapeSpecs with one fresh aiohttp session per run."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: PrometheusScrapeSpec) -> ProbeResult:
        """Fetch, parse and judge the samples; errors become failed results."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout):
                scrape = await _scrape(spec, started)
        except TimeoutError:
            return _failed(started, f"timed out after {spec.timeout:g}s")
        except (aiohttp.ClientError, OSError, ValueError) as error:
            return _failed(started, f"{type(error).__name__}: {error}")
        return _judge(spec, scrape, time.perf_counter() - started, self._clock.time())


async def _scrape(spec: PrometheusScrapeSpec, started: float) -> _Scrape:
    status, body = await _fetch(spec)
    response_ms = round((time.perf_counter() - started) * 1000, 3)
    if not 200 <= status < 300:
        return _Scrape(status, response_ms, [], f"HTTP {status} from {spec.url}")
    if body is None:
        return _Scrape(status, response_ms, [], f"exposition larger than {MAX_BODY // 2**20} MiB")
    try:
        # Parsing megabytes takes a while: off the event loop, so other probes' timings hold.
        samples = await asyncio.to_thread(select_samples, body, spec.select)
    except ValueError as error:
        return _Scrape(status, response_ms, [], f"unparsable exposition: {_detail(error)}")
    return _Scrape(status, response_ms, samples)


async def _fetch(spec: PrometheusScrapeSpec) -> tuple[int, bytes | None]:
    """GET the page; the body is None when it is larger than MAX_BODY."""
    connector = aiohttp.TCPConnector(force_close=True)
    headers = {"Accept": _ACCEPT, **spec.headers}
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(str(spec.url), headers=headers) as response,
    ):
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > MAX_BODY:
                return response.status, None
        return response.status, bytes(body)


def _judge(
    spec: PrometheusScrapeSpec, scrape: _Scrape, duration_s: float, now: float
) -> ProbeResult:
    observed: dict[str, Any] = {
        "STATUS": scrape.status,
        "RESPONSE_TIME": scrape.response_ms,
        "SAMPLES": len(scrape.samples),
    }
    if scrape.problem is not None:
        return ProbeResult(ok=False, duration_s=duration_s, observed=observed, error=scrape.problem)
    if not scrape.samples:
        error = f"no sample matches {spec.select}"
        return ProbeResult(ok=False, duration_s=duration_s, observed=observed, error=error)
    context = {**observed, "NOW": now}
    judgement = judge_samples(spec.conditions, scrape.samples, spec.aggregate, context)
    return ProbeResult(
        ok=judgement.ok,
        duration_s=duration_s,
        observed={**observed, **judgement.observed},
        conditions=judgement.conditions,
    )


def _detail(error: Exception) -> str:
    """Return an error's text, cut short: parser messages quote whole lines of the page."""
    text = str(error)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def _failed(started: float, reason: str) -> ProbeResult:
    return ProbeResult(ok=False, duration_s=time.perf_counter() - started, error=reason)
