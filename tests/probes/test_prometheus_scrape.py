"""The prometheus_scrape probe against real local servers: a realistic exposition and the demo exchange."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from monitor.demo.exchange import RunningExchange, start_exchange
from probes import ProbeResult, Registry
from probes.prometheus_scrape import MAX_BODY, PrometheusScrapeProbe, PrometheusScrapeSpec

EXPOSITION = r"""# HELP exchange_withdrawal_queue_depth Withdrawals waiting to be sent.
# TYPE exchange_withdrawal_queue_depth gauge
exchange_withdrawal_queue_depth{asset="btc"} 120
exchange_withdrawal_queue_depth{asset="eth"} 30
exchange_withdrawal_queue_depth{asset="jpy"} 700
# HELP exchange_up Whether a component serves requests.
# TYPE exchange_up gauge
exchange_up{component="trading-engine"} 1
exchange_up{component="trading-api"} 1
exchange_up{component="website"} 0
# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{method="GET",path="/api/\"ticker\""} 1027 1700000000000
http_requests_total{method="POST",path="C:\\orders\nnew"} 3
# HELP request_seconds Request latency.
# TYPE request_seconds histogram
request_seconds_bucket{le="0.1"} 80
request_seconds_bucket{le="0.5"} 95
request_seconds_bucket{le="+Inf"} 100
request_seconds_sum 9.5
request_seconds_count 100
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.25
"""


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(text=EXPOSITION)


async def _picky(request: web.Request) -> web.Response:
    """Like servers that speak OpenMetrics too: the format follows the Accept header."""
    if not request.headers.get("Accept", "").startswith("text/plain"):
        return web.Response(status=406, text="say which format")
    return web.Response(text=EXPOSITION)


async def _private(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != "Bearer s3cret":
        return web.Response(status=401, text="unauthorized")
    return web.Response(text=EXPOSITION)


async def _slow(_: web.Request) -> web.Response:
    await asyncio.sleep(0.5)
    return web.Response(text=EXPOSITION)


ROUTES: dict[str, Any] = {
    "/metrics": _metrics,
    "/private": _private,
    "/slow": _slow,
    "/picky": _picky,
    "/broken": lambda _: web.Response(status=500, text="internal error"),
    "/garbage": lambda _: web.Response(text='up{job="a" 1\n'),
    "/latin1": lambda _: web.Response(body=b'up{job="caf\xe9"} 1\n'),
    "/huge": lambda _: web.Response(body=b"# " + b"x" * MAX_BODY + b"\n"),
}


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.add_routes([web.get(path, handler) for path, handler in ROUTES.items()])
    test_server = TestServer(app, host="127.0.0.1")
    async with test_server:
        yield test_server


def spec_for(url: str, select: str, *conditions: str, **fields: Any) -> PrometheusScrapeSpec:
    return PrometheusScrapeSpec.model_validate(
        {"url": url, "select": select, "conditions": list(conditions), **fields}
    )


async def scrape(
    server: TestServer, select: str, *conditions: str, path: str = "/metrics", **fields: Any
) -> ProbeResult:
    url = str(server.make_url(path))
    return await PrometheusScrapeProbe().run(spec_for(url, select, *conditions, **fields))


async def test_all_passes_when_every_matching_sample_does(server: TestServer) -> None:
    result = await scrape(
        server,
        'exchange_withdrawal_queue_depth{asset=~"btc|eth"}',
        "[VALUE] < 500",
        "[STATUS] == 200",
        "[RESPONSE_TIME] < 5s",
    )
    assert result.ok, result.failure_reason
    assert result.observed["SAMPLES"] == 2
    assert result.observed["FAILING"] == 0
    assert result.observed["STATUS"] == 200
    assert result.observed["RESPONSE_TIME"] > 0


async def test_all_fails_on_one_sample_and_names_it(server: TestServer) -> None:
    result = await scrape(server, "exchange_withdrawal_queue_depth", "[VALUE] < 500")
    assert not result.ok
    assert result.error is None
    assert result.observed["SAMPLE"] == 'exchange_withdrawal_queue_depth{asset="jpy"}'
    assert result.observed["FAILING"] == 1
    assert result.observed["SAMPLES"] == 3
    assert result.failure_reason == "[VALUE] < 500 → 700"


async def test_any_needs_one_sample(server: TestServer) -> None:
    result = await scrape(server, "exchange_up", "[VALUE] == 0", aggregate="any")
    assert result.ok, result.failure_reason
    assert result.observed["SAMPLE"] == 'exchange_up{component="website"}'
    result = await scrape(
        server, 'exchange_up{component=~"trading.*"}', "[VALUE] == 0", aggregate="any"
    )
    assert not result.ok
    assert result.observed["SAMPLE"] == 'exchange_up{component="trading-engine"}'


@pytest.mark.parametrize(
    ("aggregate", "expected"), [("sum", 850), ("max", 700), ("min", 30), ("count", 3)]
)
async def test_aggregates_evaluate_once(server: TestServer, aggregate: str, expected: int) -> None:
    select = "exchange_withdrawal_queue_depth"
    result = await scrape(server, select, f"[VALUE] == {expected}", aggregate=aggregate)
    assert result.ok, result.failure_reason
    assert result.observed["VALUE"] == expected
    assert len(result.conditions) == 1
    failing = await scrape(server, select, f"[VALUE] != {expected}", aggregate=aggregate)
    assert not failing.ok


async def test_regexes_are_anchored(server: TestServer) -> None:
    result = await scrape(server, 'exchange_up{component=~"trading"}', "[VALUE] == 1")
    assert not result.ok
    assert result.error == 'no sample matches exchange_up{component=~"trading"}'
    assert result.observed["SAMPLES"] == 0
    result = await scrape(server, 'exchange_up{component!~"trading-.*"}', "[VALUE] == 0")
    assert result.ok, result.failure_reason
    assert result.observed["SAMPLES"] == 1


async def test_escaped_label_values_match(server: TestServer) -> None:
    result = await scrape(server, r'http_requests_total{path="/api/\"ticker\""}', "[VALUE] == 1027")
    assert result.ok, result.failure_reason
    result = await scrape(server, r'http_requests_total{path="C:\\orders\nnew"}', "[VALUE] == 3")
    assert result.ok, result.failure_reason
    assert result.observed["SAMPLE"] == r'http_requests_total{method="POST",path="C:\\orders\nnew"}'


async def test_histogram_buckets_and_counters_are_samples(server: TestServer) -> None:
    result = await scrape(server, 'request_seconds_bucket{le="+Inf"}', "[VALUE] == 100")
    assert result.ok, result.failure_reason
    result = await scrape(
        server, 'request_seconds_bucket{le!="+Inf"}', "[VALUE] == 2", aggregate="count"
    )
    assert result.ok, result.failure_reason
    result = await scrape(server, "process_cpu_seconds_total", "[VALUE] > 12")
    assert result.ok, result.failure_reason


async def test_no_match_is_a_failed_result(server: TestServer) -> None:
    result = await scrape(server, 'exchange_up{component="ghost"}', "[VALUE] == 1")
    assert not result.ok
    assert result.error == 'no sample matches exchange_up{component="ghost"}'
    assert result.conditions == ()


async def test_http_errors_are_failed_results(server: TestServer) -> None:
    result = await scrape(server, "exchange_up", path="/broken")
    assert not result.ok
    assert result.error == f"HTTP 500 from {server.make_url('/broken')}"
    assert result.observed["STATUS"] == 500


@pytest.mark.parametrize("path", ["/garbage", "/latin1"])
async def test_an_unparsable_exposition_is_a_failed_result(server: TestServer, path: str) -> None:
    result = await scrape(server, "up", "[VALUE] == 1", path=path)
    assert not result.ok
    assert result.error is not None and result.error.startswith("unparsable exposition: ")
    assert result.observed["STATUS"] == 200


async def test_the_body_is_capped(server: TestServer) -> None:
    result = await scrape(server, "up", path="/huge")
    assert result.error == "exposition larger than 4 MiB"


async def test_timeouts_and_refused_connections_are_failed_results(server: TestServer) -> None:
    result = await scrape(server, "exchange_up", path="/slow", timeout="100ms")
    assert result.error == "timed out after 0.1s"
    assert result.duration_s < 0.45
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await PrometheusScrapeProbe().run(spec_for(f"http://127.0.0.1:{port}/", "up"))
    assert result.error is not None and "ClientConnectorError" in result.error


async def test_headers_are_sent_and_text_format_is_asked_for(server: TestServer) -> None:
    assert (await scrape(server, "exchange_up", path="/private")).observed["STATUS"] == 401
    headers = {"Authorization": "Bearer s3cret"}
    result = await scrape(server, "exchange_up", "[VALUE] >= 0", path="/private", headers=headers)
    assert result.ok, result.failure_reason
    assert (await scrape(server, "exchange_up", path="/picky")).ok
    mine = {"Accept": "application/openmetrics-text"}  # the check's own headers win
    result = await scrape(server, "exchange_up", path="/picky", headers=mine)
    assert result.observed["STATUS"] == 406


def test_the_spec_is_checked_at_config_load() -> None:
    with pytest.raises(ValidationError, match="column 12: expected ',' or '}'"):
        spec_for("http://127.0.0.1/metrics", 'up{job="a" zone="b"}')
    with pytest.raises(ValidationError, match=r"unknown placeholder \[BODY\]"):
        spec_for("http://127.0.0.1/metrics", "up", "[BODY] == 1")
    with pytest.raises(ValidationError, match="line break"):
        spec_for("http://127.0.0.1/metrics", "up", headers={"X": "a\r\nb"})
    with pytest.raises(ValidationError, match="aggregate"):
        spec_for("http://127.0.0.1/metrics", "up", aggregate="avg")
    spec = spec_for("http://127.0.0.1/metrics", "up { job = 'api' }", "[VALUE] == 1")
    assert spec.model_dump(mode="json")["select"] == 'up{job="api"}'


async def test_a_fresh_registry_builds_the_probe(server: TestServer) -> None:
    registry = Registry()
    registry.register("prometheus_scrape", PrometheusScrapeSpec, PrometheusScrapeProbe)
    kind = registry.get("prometheus_scrape")
    spec = kind.spec.model_validate(
        {"kind": "prometheus_scrape", "url": str(server.make_url("/metrics")), "select": "up"}
    )
    result = await kind.factory().run(spec)
    assert result.error == "no sample matches up"


@pytest.fixture
async def exchange() -> AsyncIterator[RunningExchange]:
    running = await start_exchange("127.0.0.1", 0)
    yield running
    await running.stop()


async def test_the_simulated_exchange_metrics(exchange: RunningExchange) -> None:
    url = exchange.url + "/metrics"
    probe = PrometheusScrapeProbe()
    depth = spec_for(url, 'exchange_withdrawal_queue_depth{asset="btc"}', "[VALUE] < 500")
    result = await probe.run(depth)
    assert result.ok, result.failure_reason
    assert result.observed["SAMPLES"] == 1
    up = spec_for(url, "exchange_up", "[VALUE] == 1")
    assert (await probe.run(up)).ok
    exchange.faults.inject("website", "down", 60)
    result = await probe.run(up)
    assert not result.ok
    assert result.observed["SAMPLE"] == 'exchange_up{component="website"}'
    assert result.observed["FAILING"] == 1
    trading = spec_for(url, 'exchange_up{component=~"trading-.*"}', "[VALUE] == 1")
    assert (await probe.run(trading)).ok
