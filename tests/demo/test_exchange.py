"""The simulated exchange, its fault API, examples/exchange.yaml against it, and the scenario."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import test_utils

from monitor.config import ConfigBase, load_config
from monitor.demo.exchange import (
    COMPONENT_IDS,
    RunningExchange,
    build_exchange_app,
    start_exchange,
)
from monitor.demo.faults import FaultTable
from monitor.demo.scenario import SCENARIO, ClearFaults, InjectFault, Step, run_scenario
from probes import REGISTRY, HttpProbe, HttpSpec, ProbeResult

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "exchange.yaml"
SLOW_DELAY = 0.05


@pytest.fixture
async def exchange() -> AsyncIterator[RunningExchange]:
    running = await start_exchange(slow_delay=SLOW_DELAY)
    yield running
    await running.stop()


@pytest.fixture
async def client(exchange: RunningExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=exchange.url) as http:
        yield http


@pytest.fixture
def config(exchange: RunningExchange) -> ConfigBase:
    return load_config(EXAMPLE, env={"EXWATCH_DEMO_EXCHANGE_URL": exchange.url})


async def inject(client: httpx.AsyncClient, target: str, mode: str, seconds: float = 60) -> None:
    response = await client.post(
        "/_faults", json={"target": target, "mode": mode, "seconds": seconds}
    )
    assert response.status_code == 200, response.text


async def run_check(config: ConfigBase, check_id: str) -> ProbeResult:
    check = next(c for c in config.checks if c.id == check_id)
    assert isinstance(check, HttpSpec)
    return await HttpProbe().run(check)


def failed_conditions(result: ProbeResult) -> list[str]:
    return [outcome.condition for outcome in result.conditions if not outcome.ok]


# -- examples/exchange.yaml against the exchange ----------------------------------------------


def test_config_components_are_exactly_the_exchanges(config: ConfigBase) -> None:
    assert len(set(COMPONENT_IDS)) == len(COMPONENT_IDS)
    assert {c.id for c in config.components} == set(COMPONENT_IDS)
    assert {c.component for c in config.checks} == set(COMPONENT_IDS)


def test_config_has_a_latency_check_for_funding_and_market_data(config: ConfigBase) -> None:
    latency = {c.component: c for c in config.checks if c.id.endswith("-latency")}
    funding = {f"{a}-{k}" for a in ("jpy", "btc", "eth") for k in ("deposits", "withdrawals")}

    assert set(latency) == funding | {"market-data"}
    for component, check in latency.items():
        assert check.id == f"{component}-latency"
        assert check.on_failure == "degraded_performance"
        assert [c.text for c in check.conditions] == ["[RESPONSE_TIME] < 1500"]


async def test_every_check_passes_against_a_healthy_exchange(config: ConfigBase) -> None:
    for check in config.checks:
        result = await REGISTRY.get(check.kind).factory().run(check)
        assert result.observed["STATUS"] == 200, check.id
        assert result.ok, f"{check.id}: {result.failure_reason}"


# -- faults and their effects ----------------------------------------------------------------


async def test_down_breaks_only_the_target(client: httpx.AsyncClient, config: ConfigBase) -> None:
    await inject(client, "eth-withdrawals", "down")

    eth = await client.get("/api/v1/withdrawals/eth/status")
    btc = await client.get("/api/v1/withdrawals/btc/status")
    assert (eth.status_code, eth.json()) == (503, {"status": "down"})
    assert btc.status_code == 200
    assert btc.json()["status"] == "ok"
    assert not (await run_check(config, "eth-withdrawals-status")).ok
    assert (await run_check(config, "btc-withdrawals-status")).ok


async def test_error_gives_a_500(client: httpx.AsyncClient) -> None:
    await inject(client, "login", "error")

    response = await client.get("/api/v1/auth/health")
    assert response.status_code == 500
    assert response.json() == {"status": "error", "message": "internal error"}
    assert (await client.get("/api/v1/auth/2fa/health")).status_code == 200


async def test_trading_engine_down_fails_its_dependents(client: httpx.AsyncClient) -> None:
    await inject(client, "trading-engine", "down")

    for path in (
        "/api/v1/trading/health",
        "/api/v1/orders/health",
        "/api/v1/markets/btc_jpy/status",
        "/api/v1/markets/eth_jpy/status",
    ):
        assert (await client.get(path)).status_code == 503, path
    assert (await client.get("/api/v1/ticker", params={"pair": "btc_jpy"})).status_code == 200


async def test_slow_delays_the_response(client: httpx.AsyncClient) -> None:
    await inject(client, "btc-deposits", "slow")

    started = time.perf_counter()
    response = await client.get("/api/v1/deposits/btc/status")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert elapsed >= SLOW_DELAY


async def test_slow_uses_the_injected_sleep() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    faults = FaultTable(lambda: datetime.now(UTC))
    faults.inject("charts", "slow", 60)
    app = build_exchange_app(faults, slow_delay=7.0, sleep=fake_sleep)
    async with test_utils.TestClient(test_utils.TestServer(app)) as http:
        response = await http.get("/api/v1/charts/candles", params={"pair": "btc_jpy"})
        assert response.status == 200
        await http.get("/api/v1/ticker", params={"pair": "btc_jpy"})
    assert slept == [7.0]


async def test_stale_ages_timestamps_so_the_age_condition_fails(
    client: httpx.AsyncClient, config: ConfigBase
) -> None:
    await inject(client, "market-data", "stale")
    await inject(client, "btc-deposits", "stale")

    ticker = await client.get("/api/v1/ticker", params={"pair": "btc_jpy"})
    deposits = await client.get("/api/v1/deposits/btc/status")
    assert ticker.status_code == deposits.status_code == 200
    assert time.time() - ticker.json()["timestamp"] / 1000 >= 9 * 60
    updated_at = datetime.fromisoformat(deposits.json()["updated_at"].replace("Z", "+00:00"))
    assert datetime.now(UTC) - updated_at >= timedelta(minutes=9)
    result = await run_check(config, "market-data-ticker")
    assert failed_conditions(result) == ["age([BODY].timestamp) < 30s"]


async def test_a_fault_expires_on_the_injected_clock() -> None:
    now = [datetime(2025, 1, 2, tzinfo=UTC)]
    app = build_exchange_app(FaultTable(lambda: now[0]), slow_delay=0)
    async with test_utils.TestClient(test_utils.TestServer(app)) as http:
        posted = await http.post(
            "/_faults", json={"target": "website", "mode": "down", "seconds": 60}
        )
        assert (await posted.json())["until"] == "2025-01-02T00:01:00.000Z"
        assert (await http.get("/")).status == 503

        now[0] += timedelta(seconds=59)
        assert (await http.get("/")).status == 503
        now[0] += timedelta(seconds=1)
        assert (await http.get("/")).status == 200
        assert await (await http.get("/_faults")).json() == []


# -- the fault API ---------------------------------------------------------------------------


async def test_post_returns_the_fault_and_get_lists_it(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    response = await client.post(
        "/_faults", json={"target": "charts", "mode": "error", "seconds": 90}
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["target"], body["mode"]) == ("charts", "error")
    until = datetime.fromisoformat(body["until"].replace("Z", "+00:00"))
    assert until.tzinfo is not None
    assert timedelta(seconds=89) <= until - before <= timedelta(seconds=91)
    assert (await client.get("/_faults")).json() == [body]


async def test_seconds_default_to_300(client: httpx.AsyncClient) -> None:
    response = await client.post("/_faults", json={"target": "charts", "mode": "down"})

    until = datetime.fromisoformat(response.json()["until"].replace("Z", "+00:00"))
    assert timedelta(seconds=299) <= until - datetime.now(UTC) <= timedelta(seconds=300)


async def test_delete_clears_one_or_all(client: httpx.AsyncClient) -> None:
    await inject(client, "login", "down")
    await inject(client, "website", "down")
    await inject(client, "charts", "down")

    assert (await client.delete("/_faults/login")).json() == {"cleared": 1}
    assert (await client.delete("/_faults/login")).json() == {"cleared": 0}
    assert (await client.get("/api/v1/auth/health")).status_code == 200
    assert [f["target"] for f in (await client.get("/_faults")).json()] == ["charts", "website"]
    assert (await client.delete("/_faults")).json() == {"cleared": 2}
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/_faults")).json() == []


async def test_delete_of_an_unknown_target_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.delete("/_faults/nope")

    assert response.status_code == 400
    assert response.json()["error"].startswith("unknown target 'nope'; known: trading-engine")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target": "nope", "mode": "down"}, "unknown target 'nope'; known: "),
        ({"mode": "down"}, "unknown target None"),
        ({"target": "login", "mode": "sideways"}, "mode must be one of"),
        ({"target": "login"}, "mode must be one of"),
        ({"target": "login", "mode": "down", "seconds": 0}, "seconds must be"),
        ({"target": "login", "mode": "down", "seconds": -5}, "seconds must be"),
        ({"target": "login", "mode": "down", "seconds": 86401}, "seconds must be"),
        ({"target": "login", "mode": "down", "seconds": "60"}, "seconds must be"),
        ({"target": "login", "mode": "down", "seconds": True}, "seconds must be"),
        (["login", "down"], "body must be a JSON object"),
        ("{not json", "body must be a JSON object"),
    ],
)
async def test_bad_fault_requests_are_400s_naming_the_field(
    client: httpx.AsyncClient, body: Any, message: str
) -> None:
    if isinstance(body, str):
        response = await client.post("/_faults", content=body.encode())
    else:
        response = await client.post("/_faults", json=body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert message in response.json()["error"]
    assert (await client.get("/_faults")).json() == []


# -- the endpoints ---------------------------------------------------------------------------


async def test_ticker_and_orderbook_look_like_a_market(client: httpx.AsyncClient) -> None:
    ticker = (await client.get("/api/v1/ticker", params={"pair": "btc_jpy"})).json()
    book = (await client.get("/api/v1/orderbook", params={"pair": "btc_jpy"})).json()

    assert 10_000_000 < ticker["bid"] < ticker["last"] < ticker["ask"] < 20_000_000
    assert ticker["volume"] > 0
    assert abs(time.time() - ticker["timestamp"] / 1000) < 5
    bids, asks = [p for p, _ in book["bids"]], [p for p, _ in book["asks"]]
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]


async def test_candles_end_at_now_in_one_minute_steps(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/charts/candles", params={"pair": "eth_jpy"})).json()

    times = [candle["time"] for candle in body["candles"]]
    assert {b - a for a, b in itertools.pairwise(times)} == {60_000}
    assert 0 <= body["timestamp"] - times[-1] < 60_000
    assert all(c["low"] <= min(c["open"], c["close"]) for c in body["candles"])
    assert all(c["high"] >= max(c["open"], c["close"]) for c in body["candles"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/markets/doge_jpy/status",
        "/api/v1/deposits/doge/status",
        "/api/v1/withdrawals/doge/status",
        "/api/v1/ticker?pair=doge_jpy",
    ],
)
async def test_unknown_pairs_and_assets_are_json_404s(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert "doge" in response.json()["error"]


async def test_pages_are_html(client: httpx.AsyncClient) -> None:
    for path in ("/", "/help"):
        response = await client.get(path)
        assert response.headers["content-type"].startswith("text/html")
        assert "<html" in response.text


async def test_metrics_show_which_components_are_up(client: httpx.AsyncClient) -> None:
    await inject(client, "trading-engine", "down")
    await inject(client, "charts", "slow")

    response = await client.get("/metrics")
    lines = response.text.splitlines()
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE exchange_up gauge" in lines
    assert "# HELP exchange_withdrawal_queue_depth Withdrawals waiting to be sent." in lines
    assert 'exchange_up{component="trading-engine"} 0' in lines
    assert 'exchange_up{component="order-entry"} 0' in lines
    assert 'exchange_up{component="charts"} 1' in lines
    assert sum(line.startswith("exchange_up{") for line in lines) == len(COMPONENT_IDS)
    assert any(line.startswith('exchange_withdrawal_queue_depth{asset="btc"} ') for line in lines)
    assert any(line.startswith("exchange_matching_latency_seconds ") for line in lines)


# -- the scenario ----------------------------------------------------------------------------


class FakeTime:
    """A monotonic clock that only sleeping moves, and a record of the sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_scenario_applies_and_clears_faults(exchange: RunningExchange) -> None:
    fake = FakeTime()
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def log(line: str) -> None:
        seen.append((line, [(f.target, f.mode.value) for f in exchange.faults.active()]))

    await run_scenario(exchange.url, sleep=fake.sleep, clock=fake.clock, log=log)

    assert fake.sleeps == [30, 45, 75]
    assert seen == [
        (
            "[scenario +30s] ETH withdrawals become slow (eth-withdrawals: slow)",
            [("eth-withdrawals", "slow")],
        ),
        (
            "[scenario +75s] The trading engine goes down (trading-engine: down)",
            [("eth-withdrawals", "slow"), ("trading-engine", "down")],
        ),
        ("[scenario +150s] Everything recovers (all faults cleared)", []),
    ]


def test_scenario_injects_for_the_scripted_durations() -> None:
    actions = [step.action for step in SCENARIO]

    assert [step.at_seconds for step in SCENARIO] == [30, 75, 150]
    assert [(a.target, a.mode, a.seconds) for a in actions if isinstance(a, InjectFault)] == [
        ("eth-withdrawals", "slow", 120),
        ("trading-engine", "down", 60),
    ]
    assert isinstance(actions[-1], ClearFaults)


async def test_scenario_times_steps_from_its_start(exchange: RunningExchange) -> None:
    fake = FakeTime()

    def slow_log(_line: str) -> None:
        fake.now += 10  # as if each step took ten seconds

    await run_scenario(exchange.url, sleep=fake.sleep, clock=fake.clock, log=slow_log)

    assert fake.sleeps == [30, 35, 65]


async def test_scenario_logs_network_errors_instead_of_raising() -> None:
    fake = FakeTime()
    lines: list[str] = []
    steps = (Step(0, "Nothing to talk to", ClearFaults()), *SCENARIO[:1])

    await run_scenario(
        "http://127.0.0.1:1", steps, sleep=fake.sleep, clock=fake.clock, log=lines.append
    )

    assert len(lines) == 2
    assert lines[0].startswith("[scenario +0s] Nothing to talk to (all faults cleared) failed: ")
    assert "ConnectError" in lines[0]
    assert "failed: " in lines[1]
