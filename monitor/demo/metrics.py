"""The exchange's ``/metrics`` endpoint in the Prometheus text exposition format."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from aiohttp import hdrs, web

from monitor.demo.responses import failure_response
from monitor.demo.state import ExchangeState, Handler

_PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_handler(ex: ExchangeState, components: Sequence[str]) -> Handler:
    """Return the ``/metrics`` handler reporting ``ex``'s state for ``components``."""

    async def handler(_request: web.Request) -> web.Response:
        text = "\n".join(_metric_lines(ex, components)) + "\n"
        return web.Response(body=text.encode(), headers={hdrs.CONTENT_TYPE: _PROMETHEUS_TYPE})

    return handler


def _metric_lines(ex: ExchangeState, components: Sequence[str]) -> Iterator[str]:
    yield from _metric_header("exchange_up", "Whether a component serves requests (1) or not (0).")
    for component in components:
        up = failure_response(ex.faults.mode_for(component)) is None
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
