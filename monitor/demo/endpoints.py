"""The component endpoints: each route's body and the component whose faults it obeys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from aiohttp import web

from monitor.demo.faults import isoformat_utc
from monitor.demo.market import PAIRS, epoch_ms
from monitor.demo.responses import error_response
from monitor.demo.state import ASSETS, Body, ExchangeState, Resolver

_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""
_HEALTH_PATHS = {
    "/app/api/health": "mobile-app",
    "/api/v1/public/health": "public-api",
    "/api/v1/private/health": "private-api",
    "/api/v1/auth/health": "login",
    "/api/v1/auth/2fa/health": "two-factor",
}


def component_routes(ex: ExchangeState) -> Iterator[web.RouteDef]:
    """Yield every component endpoint, each guarded by its component's faults."""

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


# -- bodies ---------------------------------------------------------------------------------


def _health(now: datetime, **extra: object) -> web.Response:
    return web.json_response({"status": "ok", **extra, "timestamp": epoch_ms(now)})


def _page(title: str, text: str) -> web.Response:
    return web.Response(text=_PAGE.format(title=title, text=text), content_type="text/html")


def _trading_health(ex: ExchangeState) -> Body:
    def body(_request: web.Request, now: datetime) -> web.Response:
        return _health(now, matching_latency_ms=ex.sample_matching_latency())

    return body


def _market_status(request: web.Request, now: datetime) -> web.Response:
    pair = request.match_info["pair"]
    if pair not in PAIRS:
        return _unknown_pair(pair)
    return web.json_response(
        {"pair": pair, "status": "ok", "trading": "open", "timestamp": epoch_ms(now)}
    )


def _unknown_pair(pair: str) -> web.Response:
    return error_response(404, f"unknown pair {pair!r}; known: {', '.join(PAIRS)}")


def _market_data(view: Callable[[str, datetime], dict[str, object]]) -> Body:
    def body(request: web.Request, now: datetime) -> web.Response:
        pair = request.query.get("pair")
        if pair is None:
            return error_response(
                400, f"pair query parameter is required (one of {', '.join(PAIRS)})"
            )
        if pair not in PAIRS:
            return _unknown_pair(pair)
        return web.json_response(view(pair, now))

    return body


def _funding_status(counts: dict[str, int], field: str, ex: ExchangeState) -> Body:
    def body(request: web.Request, now: datetime) -> web.Response:
        asset = request.match_info["asset"]
        if asset not in ASSETS:
            return error_response(404, f"unknown asset {asset!r}; known: {', '.join(ASSETS)}")
        counts[asset] = ex.walk(counts[asset])
        payload = {"asset": asset, "status": "ok", field: counts[asset]}
        return web.json_response({**payload, "updated_at": isoformat_utc(now)})

    return body


# -- which component a request belongs to ---------------------------------------------------


def _by_asset(kind: str) -> Resolver:
    return lambda request: (
        f"{request.match_info['asset']}-{kind}" if request.match_info["asset"] in ASSETS else None
    )


def _fixed(component: str) -> Resolver:
    return lambda _request: component
