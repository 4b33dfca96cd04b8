"""A simulated crypto exchange (aiohttp) whose components can be broken on purpose.

Each endpoint belongs to one component id; ``/_faults`` makes components go down, fail,
slow down or serve stale data, so ``exwatch demo`` has something real to watch.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import hdrs, web

from monitor.demo.faults import (
    DEFAULT_SECONDS,
    FaultMode,
    FaultRequestError,
    FaultTable,
    isoformat_utc,
)

PAIRS: dict[str, str] = {"btc_jpy": "btc-jpy-trading", "eth_jpy": "eth-jpy-trading"}
ASSETS: tuple[str, ...] = ("jpy", "btc", "eth")
COMPONENT_IDS: tuple[str, ...] = (
    "trading-engine",
    "order-entry",
    *PAIRS.values(),
    "market-data",
    "charts",
    *(f"{asset}-deposits" for asset in ASSETS),
    *(f"{asset}-withdrawals" for asset in ASSETS),
    "website",
    "mobile-app",
    "help-center",
    "public-api",
    "private-api",
    "login",
    "two-factor",
)
STALE_BY = timedelta(minutes=10)
_BASE_PRICES = {"btc_jpy": 15_000_000.0, "eth_jpy": 550_000.0}
_DAILY_VOLUME = {"btc_jpy": 1_200.0, "eth_jpy": 9_000.0}
_BOOK_LEVELS = 10
_CANDLES = 60
_PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Body = Callable[[web.Request, datetime], web.Response]
Resolver = Callable[[web.Request], str | None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _failure(mode: FaultMode | None) -> web.Response | None:
    """Return the response a down or erroring component gives, None when it answers."""
    if mode is FaultMode.DOWN:
        return web.json_response({"status": "down"}, status=503)
    if mode is FaultMode.ERROR:
        return web.json_response({"status": "error", "message": "internal error"}, status=500)
    return None


def _page(title: str, text: str) -> web.Response:
    return web.Response(text=_PAGE.format(title=title, text=text), content_type="text/html")


class _Market:
    """Prices that take a small random walk on every read, so tickers and charts move."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.last = dict(_BASE_PRICES)

    def tick(self, pair: str) -> float:
        """Move ``pair``'s price one step and return it."""
        # ±0.05 % per step keeps prices plausible over a demo of any length.
        self.last[pair] = round(self.last[pair] * (1 + self._rng.gauss(0, 0.0005)))
        return self.last[pair]

    def ticker(self, pair: str, now: datetime) -> dict[str, object]:
        """Return a ticker: last trade, best bid and ask, 24 h volume."""
        last = self.tick(pair)
        half_spread = max(1.0, round(last * 0.0001))
        volume = _DAILY_VOLUME[pair] * self._rng.uniform(0.8, 1.2)
        return {
            "pair": pair,
            "last": last,
            "bid": last - half_spread,
            "ask": last + half_spread,
            "volume": round(volume, 4),
            "timestamp": _epoch_ms(now),
        }

    def orderbook(self, pair: str, now: datetime) -> dict[str, object]:
        """Return ``_BOOK_LEVELS`` price levels a side around the last price."""
        last = self.tick(pair)
        step = max(1.0, round(last * 0.0001))
        bids = [[last - step * (i + 1), self._size()] for i in range(_BOOK_LEVELS)]
        asks = [[last + step * (i + 1), self._size()] for i in range(_BOOK_LEVELS)]
        return {"pair": pair, "bids": bids, "asks": asks, "timestamp": _epoch_ms(now)}

    def candles(self, pair: str, now: datetime) -> dict[str, object]:
        """Return the last hour of one-minute candles, ending at the current price."""
        minute = now.replace(second=0, microsecond=0)
        close = self.last[pair]
        candles: list[dict[str, float]] = []
        for age in range(_CANDLES):
            # Walk backwards from the current price so the newest candle closes at it.
            candle = self._candle(_epoch_ms(minute - timedelta(minutes=age)), close)
            candles.append(candle)
            close = candle["open"]
        candles.reverse()
        return {"pair": pair, "interval": "1m", "candles": candles, "timestamp": _epoch_ms(now)}

    def _candle(self, time: int, close: float) -> dict[str, float]:
        open_ = round(close * (1 + self._rng.gauss(0, 0.001)))
        wick = abs(self._rng.gauss(0, 0.0005))
        return {
            "time": time,
            "open": open_,
            "high": round(max(open_, close) * (1 + wick)),
            "low": round(min(open_, close) * (1 - wick)),
            "close": close,
            "volume": self._size(),
        }

    def _size(self) -> float:
        return round(self._rng.uniform(0.001, 2.0), 4)


class _Exchange:
    """The exchange's state and handlers; faults are applied around every component's body."""

    def __init__(
        self,
        faults: FaultTable,
        slow_delay: float,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.faults = faults
        self._slow_delay = slow_delay
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self.market = _Market(rng)
        self.pending = dict.fromkeys(ASSETS, 1)
        self.queue_depth = dict.fromkeys(ASSETS, 3)
        self.matching_latency_ms = 4.0

    def guarded(self, component_of: Resolver, body: Body) -> Handler:
        """Wrap ``body`` so the fault on its component (if any) shapes the response."""

        async def handler(request: web.Request) -> web.StreamResponse:
            component = component_of(request)
            mode = self.faults.mode_for(component) if component else None
            failure = _failure(mode)
            if failure is not None:
                return failure
            if mode is FaultMode.SLOW:
                await self._sleep(self._slow_delay)
            stale = mode is FaultMode.STALE
            return body(request, self._clock() - (STALE_BY if stale else timedelta(0)))

        return handler

    def walk(self, value: int) -> int:
        """Return a small non-negative random step from ``value`` (queues drift)."""
        return max(0, value + self._rng.choice((-1, 0, 0, 1)))

    def sample_matching_latency(self) -> float:
        """Return a fresh matching latency in milliseconds, remembered for the metrics."""
        self.matching_latency_ms = round(self._rng.uniform(2.0, 6.0), 2)
        return self.matching_latency_ms

    def matching_latency_s(self) -> float:
        """Return the matching latency the metrics report (the slow delay when slowed)."""
        if self.faults.mode_for("trading-engine") is FaultMode.SLOW:
            return self._slow_delay
        return self.matching_latency_ms / 1000


# -- bodies of the component endpoints ------------------------------------------------------


def _health(now: datetime, **extra: object) -> web.Response:
    return web.json_response({"status": "ok", **extra, "timestamp": _epoch_ms(now)})


def _trading_health(ex: _Exchange) -> Body:
    def body(_request: web.Request, now: datetime) -> web.Response:
        return _health(now, matching_latency_ms=ex.sample_matching_latency())

    return body


def _market_status(request: web.Request, now: datetime) -> web.Response:
    pair = request.match_info["pair"]
    if pair not in PAIRS:
        return _unknown_pair(pair)
    return web.json_response(
        {"pair": pair, "status": "ok", "trading": "open", "timestamp": _epoch_ms(now)}
    )


def _unknown_pair(pair: str) -> web.Response:
    return _error(404, f"unknown pair {pair!r}; known: {', '.join(PAIRS)}")


def _market_data(view: Callable[[str, datetime], dict[str, object]]) -> Body:
    def body(request: web.Request, now: datetime) -> web.Response:
        pair = request.query.get("pair")
        if pair is None:
            return _error(400, f"pair query parameter is required (one of {', '.join(PAIRS)})")
        if pair not in PAIRS:
            return _unknown_pair(pair)
        return web.json_response(view(pair, now))

    return body


def _funding_status(counts: dict[str, int], field: str, ex: _Exchange) -> Body:
    def body(request: web.Request, now: datetime) -> web.Response:
        asset = request.match_info["asset"]
        if asset not in ASSETS:
            return _error(404, f"unknown asset {asset!r}; known: {', '.join(ASSETS)}")
        counts[asset] = ex.walk(counts[asset])
        payload = {"asset": asset, "status": "ok", field: counts[asset]}
        return web.json_response({**payload, "updated_at": isoformat_utc(now)})

    return body


def _by_asset(kind: str) -> Resolver:
    return lambda request: (
        f"{request.match_info['asset']}-{kind}" if request.match_info["asset"] in ASSETS else None
    )


def _fixed(component: str) -> Resolver:
    return lambda _request: component


# -- the fault API and metrics, which no fault touches --------------------------------------


def _fault_api(ex: _Exchange) -> Iterator[web.RouteDef]:
    async def inject(request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except ValueError:
            return _error(400, "body must be a JSON object with target, mode and seconds")
        if not isinstance(data, dict):
            return _error(400, "body must be a JSON object with target, mode and seconds")
        target = data.get("target")
        if target not in COMPONENT_IDS:
            return _unknown_target(target)
        try:
            fault = ex.faults.inject(target, data.get("mode"), data.get("seconds", DEFAULT_SECONDS))
        except FaultRequestError as error:
            return _error(400, str(error))
        return web.json_response(fault.to_json())

    async def listing(_request: web.Request) -> web.Response:
        return web.json_response([fault.to_json() for fault in ex.faults.active()])

    async def clear_all(_request: web.Request) -> web.Response:
        return web.json_response({"cleared": ex.faults.clear()})

    async def clear_one(request: web.Request) -> web.Response:
        target = request.match_info["target"]
        if target not in COMPONENT_IDS:
            return _unknown_target(target)
        return web.json_response({"cleared": ex.faults.clear(target)})

    yield web.post("/_faults", inject)
    yield web.get("/_faults", listing)
    yield web.delete("/_faults", clear_all)
    yield web.delete("/_faults/{target}", clear_one)


def _unknown_target(target: object) -> web.Response:
    return _error(400, f"unknown target {target!r}; known: {', '.join(COMPONENT_IDS)}")


def _metrics(ex: _Exchange) -> Handler:
    async def handler(_request: web.Request) -> web.Response:
        text = "\n".join(_metric_lines(ex)) + "\n"
        return web.Response(body=text.encode(), headers={hdrs.CONTENT_TYPE: _PROMETHEUS_TYPE})

    return handler


def _metric_lines(ex: _Exchange) -> Iterator[str]:
    yield from _metric_header("exchange_up", "Whether a component serves requests (1) or not (0).")
    for component in COMPONENT_IDS:
        up = _failure(ex.faults.mode_for(component)) is None
        yield f'exchange_up{{component="{component}"}} {int(up)}'
    yield from _metric_header("exchange_matching_latency_seconds", "Latest order matching latency.")
    yield f"exchange_matching_latency_seconds {ex.matching_latency_s():g}"
    yield from _metric_header("exchange_withdrawal_queue_depth", "Withdrawals waiting to be sent.")
    yield from (
        f'exchange_withdrawal_queue_depth{{asset="{a}"}} {n}' for a, n in ex.queue_depth.items()
    )
    yield from _metric_header("exchange_deposits_pending", "Deposits waiting for confirmation.")
    yield from (f'exchange_deposits_pending{{asset="{a}"}} {n}' for a, n in ex.pending.items())
    yield from _metric_header("exchange_last_price_jpy", "Last traded price in yen.")
    yield from (f'exchange_last_price_jpy{{pair="{p}"}} {v:.0f}' for p, v in ex.market.last.items())


def _metric_header(name: str, help_text: str) -> Iterator[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} gauge"


# -- wiring ---------------------------------------------------------------------------------


def _component_routes(ex: _Exchange) -> Iterator[web.RouteDef]:
    def get(path: str, component_of: Resolver, body: Body) -> web.RouteDef:
        return web.get(path, ex.guarded(component_of, body))

    yield get("/api/v1/trading/health", _fixed("trading-engine"), _trading_health(ex))
    yield get("/api/v1/orders/health", _fixed("order-entry"), lambda _r, now: _health(now))
    yield get(
        "/api/v1/markets/{pair}/status", lambda r: PAIRS.get(r.match_info["pair"]), _market_status
    )
    yield get("/api/v1/ticker", _fixed("market-data"), _market_data(ex.market.ticker))
    yield get("/api/v1/orderbook", _fixed("market-data"), _market_data(ex.market.orderbook))
    yield get("/api/v1/charts/candles", _fixed("charts"), _market_data(ex.market.candles))
    deposits = _funding_status(ex.pending, "pending", ex)
    withdrawals = _funding_status(ex.queue_depth, "queue_depth", ex)
    yield get("/api/v1/deposits/{asset}/status", _by_asset("deposits"), deposits)
    yield get("/api/v1/withdrawals/{asset}/status", _by_asset("withdrawals"), withdrawals)
    yield get("/", _fixed("website"), lambda _r, _now: _page("Demo Exchange", "暗号資産取引所"))
    yield get(
        "/help", _fixed("help-center"), lambda _r, _now: _page("Help Center", "ヘルプセンター")
    )
    for path, component in _HEALTH_PATHS.items():
        yield get(path, _fixed(component), lambda _r, now: _health(now))


_HEALTH_PATHS = {
    "/app/api/health": "mobile-app",
    "/api/v1/public/health": "public-api",
    "/api/v1/private/health": "private-api",
    "/api/v1/auth/health": "login",
    "/api/v1/auth/2fa/health": "two-factor",
}


def build_exchange_app(
    faults: FaultTable,
    *,
    slow_delay: float = 2.5,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], datetime] = _utc_now,
    rng: random.Random | None = None,
) -> web.Application:
    """Return the simulated exchange's app, with ``faults`` deciding who misbehaves."""
    ex = _Exchange(faults, slow_delay, sleep, clock, rng or random.Random())
    app = web.Application()
    app.add_routes([*_component_routes(ex), *_fault_api(ex), web.get("/metrics", _metrics(ex))])
    return app


@dataclass
class RunningExchange:
    """An exchange serving on ``url`` until ``stop``."""

    url: str
    runner: web.AppRunner
    faults: FaultTable

    async def stop(self) -> None:
        """Stop serving and release the port."""
        await self.runner.cleanup()


async def start_exchange(
    host: str = "127.0.0.1", port: int = 0, *, slow_delay: float = 2.5
) -> RunningExchange:
    """Serve a fresh exchange on ``host:port`` (port 0 picks a free one)."""
    faults = FaultTable(_utc_now)
    # No access log: the demo's console is for the scenario, not a line per probe.
    runner = web.AppRunner(build_exchange_app(faults, slow_delay=slow_delay), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return RunningExchange(f"http://{host}:{bound_port}", runner, faults)
