"""The promql probe against a fake Prometheus API and against the real Prometheus server."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from monitor.demo.exchange import COMPONENT_IDS, start_exchange
from probes import ProbeResult, Registry
from probes.promql import PromqlProbe, PromqlSpec

PROMETHEUS = Path("/usr/bin/prometheus")
NOW = 1_763_715_600.5


def _series(value: str, **labels: str) -> dict[str, Any]:
    return {"metric": labels, "value": [NOW, value]}


def _success(result_type: str, result: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


VECTOR = [
    _series("1", __name__="exchange_up", component="trading-engine"),
    _series("1", __name__="exchange_up", component="website"),
    _series("0", __name__="exchange_up", component="charts"),
]
SEEN = web.AppKey("seen", list[tuple[str, str | None]])
BAD_QUERY = "1:12: parse error: unexpected end of input inside braces"
# Query -> (HTTP status, JSON body or raw text), as Prometheus 2.x answers.
ANSWERS: dict[str, tuple[int, Any]] = {
    "exchange_up": (200, _success("vector", VECTOR)),
    "sum(exchange_up)": (200, _success("vector", [_series("2")])),
    "scalar(sum(exchange_up))": (200, _success("scalar", [NOW, "42"])),
    "odd_values": (200, _success("vector", [_series("NaN", a="x"), _series("+Inf", a="y")])),
    "absent_metric": (200, _success("vector", [])),
    "exchange_up[5m]": (200, _success("matrix", [{"metric": {}, "values": [[NOW, "1"]]}])),
    "exchange_up{": (400, {"status": "error", "errorType": "bad_data", "error": BAD_QUERY}),
    "behind_a_proxy": (502, "<html>Bad Gateway</html>"),
    "not_json": (200, "hello"),
    "bad_value": (200, _success("vector", [_series("many")])),
}


async def _query(request: web.Request) -> web.Response:
    query = request.query.get("query", "")
    request.app[SEEN].append((query, request.headers.get("Authorization")))
    if query == "slow":
        await asyncio.sleep(0.5)
    status, body = ANSWERS.get(query, (200, _success("scalar", [NOW, "7"])))
    if isinstance(body, str):
        return web.Response(status=status, text=body)
    return web.json_response(body, status=status)


@pytest.fixture
async def api() -> AsyncIterator[TestServer]:
    app = web.Application()
    app[SEEN] = []
    app.add_routes([web.get("/api/v1/query", _query), web.get("/prom/api/v1/query", _query)])
    server = TestServer(app, host="127.0.0.1")
    async with server:
        yield server


def spec_for(server: str, query: str, *conditions: str, **fields: Any) -> PromqlSpec:
    return PromqlSpec.model_validate(
        {"server": server, "query": query, "conditions": list(conditions), **fields}
    )


async def ask(api: TestServer, query: str, *conditions: str, **fields: Any) -> ProbeResult:
    spec = spec_for(str(api.make_url("/")), query, *conditions, **fields)
    return await PromqlProbe().run(spec)


async def test_a_vector_is_judged_series_by_series(api: TestServer) -> None:
    result = await ask(api, "exchange_up", "[SERIES] == 3", "[STATUS] == 200")
    assert result.ok, result.failure_reason
    result = await ask(api, "exchange_up", "[VALUE] == 1")
    assert not result.ok
    assert result.observed["SAMPLE"] == 'exchange_up{component="charts"}'
    assert result.observed["FAILING"] == 1
    assert result.observed["SERIES"] == 3
    assert result.observed["RESPONSE_TIME"] > 0
    assert result.failure_reason == "[VALUE] == 1 → 0.0"


@pytest.mark.parametrize(
    ("aggregate", "right", "wrong"),
    [
        ("any", "[VALUE] == 0", "[VALUE] == 5"),
        ("sum", "[VALUE] == 2", "[VALUE] == 3"),
        ("max", "[VALUE] == 1", "[VALUE] == 0"),
        ("min", "[VALUE] == 0", "[VALUE] == 1"),
        ("count", "[VALUE] == 3", "[VALUE] == 2"),
    ],
)
async def test_aggregates_over_the_series(
    api: TestServer, aggregate: str, right: str, wrong: str
) -> None:
    result = await ask(api, "exchange_up", right, aggregate=aggregate)
    assert result.ok, result.failure_reason
    assert not (await ask(api, "exchange_up", wrong, aggregate=aggregate)).ok


async def test_a_series_without_a_name_and_odd_values(api: TestServer) -> None:
    result = await ask(api, "sum(exchange_up)", "[VALUE] == 2")
    assert result.ok, result.failure_reason
    assert result.observed["SAMPLE"] == "{}"
    # NaN and +Inf are read; the condition language compares neither as a number.
    result = await ask(api, "odd_values", "[VALUE] > 0", aggregate="max")
    assert result.observed["VALUE"] == float("inf")
    assert not result.ok
    result = await ask(api, "odd_values", "[VALUE] > 0")
    assert result.observed["SAMPLE"] == '{a="x"}'
    assert result.observed["FAILING"] == 2


async def test_a_scalar_is_one_value_whatever_the_aggregate(api: TestServer) -> None:
    for aggregate in ("all", "count"):
        result = await ask(api, "scalar(sum(exchange_up))", "[VALUE] == 42", aggregate=aggregate)
        assert result.ok, result.failure_reason
        assert result.observed["VALUE"] == 42
        assert result.observed["SERIES"] == 1


async def test_a_bad_query_fails_with_prometheus_words(api: TestServer) -> None:
    result = await ask(api, "exchange_up{", "[VALUE] == 1")
    assert not result.ok
    assert result.error == f"Prometheus error (bad_data): {BAD_QUERY}"
    assert result.observed["STATUS"] == 400


async def test_an_empty_vector_fails_unless_allowed(api: TestServer) -> None:
    result = await ask(api, "absent_metric", "[VALUE] == 1")
    assert result.error == "query returned no series"
    assert result.observed["SERIES"] == 0
    result = await ask(api, "absent_metric", "[VALUE] == 1", empty_ok=True)
    assert result.ok
    assert result.observed["SERIES"] == 0
    assert result.conditions == ()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("exchange_up[5m]", "the query returned a matrix; this probe reads vectors and scalars"),
        ("behind_a_proxy", "HTTP 502 from Prometheus"),
        ("not_json", "not a Prometheus API response: Invalid JSON"),
        ("bad_value", "not a Prometheus API response: 0.value.1: Input should be a valid number"),
    ],
)
async def test_answers_it_cannot_read_are_failed_results(
    api: TestServer, query: str, error: str
) -> None:
    result = await ask(api, query, "[VALUE] == 1")
    assert not result.ok
    assert result.error is not None and result.error.startswith(error)


async def test_the_query_and_headers_are_sent_as_written(api: TestServer) -> None:
    query = 'sum by (asset) (rate(x{a=~"b|c"}[5m])) > 0 and on() vector(1) + 2'
    headers = {"Authorization": "Bearer s3cret"}
    url = str(api.make_url("/prom/"))  # a server behind a path prefix
    result = await PromqlProbe().run(spec_for(url, query, "[VALUE] == 7", headers=headers))
    assert result.ok, result.failure_reason
    assert api.app[SEEN] == [(query, "Bearer s3cret")]


async def test_timeouts_and_refused_connections_are_failed_results(api: TestServer) -> None:
    result = await ask(api, "slow", timeout="100ms")
    assert result.error == "timed out after 0.1s"
    assert result.duration_s < 0.45
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await PromqlProbe().run(spec_for(f"http://127.0.0.1:{port}", "up"))
    assert result.error is not None and result.error.startswith("ConnectError")


def test_the_spec_is_checked_at_config_load() -> None:
    with pytest.raises(ValidationError, match="query"):
        spec_for("http://127.0.0.1:9090", "")
    with pytest.raises(ValidationError, match=r"unknown placeholder \[SAMPLES\]"):
        spec_for("http://127.0.0.1:9090", "up", "[SAMPLES] > 0")
    with pytest.raises(ValidationError, match="line break"):
        spec_for("http://127.0.0.1:9090", "up", headers={"X": "a\nb"})
    registry = Registry()
    registry.register("promql", PromqlSpec, PromqlProbe)
    spec = registry.get("promql").spec.model_validate(
        {"kind": "promql", "server": "http://127.0.0.1:9090", "query": "up"}
    )
    assert isinstance(spec, PromqlSpec) and spec.aggregate == "all" and not spec.empty_ok


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _need_prometheus() -> None:
    """Skip without the binary; under CI (which installs it) its absence is a failure."""
    if PROMETHEUS.exists():
        return
    reason = f"{PROMETHEUS} is not installed (apt-get install prometheus)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


async def _wait_until_scraped(server: str, log: Path) -> None:
    """Poll, at most 30 s, until Prometheus has scraped the exchange successfully."""
    ready = spec_for(server, 'up{job="exchange"}', "[VALUE] == 1", timeout="2s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (await PromqlProbe().run(ready)).ok:
            return
        await asyncio.sleep(0.2)
    output = await asyncio.to_thread(log.read_text)
    pytest.fail(f"Prometheus did not scrape the exchange within 30 s:\n{output[-2000:]}")


async def test_against_the_real_prometheus(tmp_path: Path) -> None:
    _need_prometheus()
    exchange = await start_exchange("127.0.0.1", 0)
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: exchange\n"
        f"    static_configs: [{{targets: ['{exchange.url.removeprefix('http://')}']}}]\n"
    )
    log = tmp_path / "prometheus.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            stdout=output,
            stderr=output,
        )
    server = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_scraped(server, log)
        probe = PromqlProbe()
        result = await probe.run(spec_for(server, "exchange_up", "[VALUE] == 1"))
        assert result.ok, result.failure_reason
        assert result.observed["SERIES"] == len(COMPONENT_IDS)
        depth = 'exchange_withdrawal_queue_depth{asset="btc"}'
        assert (await probe.run(spec_for(server, depth, "[VALUE] < 500"))).ok
        total = await probe.run(spec_for(server, "scalar(count(exchange_up))", "[VALUE] > 10"))
        assert total.ok, total.failure_reason
        bad = await probe.run(spec_for(server, "exchange_up{", "[VALUE] == 1"))
        assert bad.error is not None and bad.error.startswith("Prometheus error (bad_data): ")
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        await exchange.stop()
