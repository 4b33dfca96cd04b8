"""The simulated market: a random walk of prices behind tickers, order books and candles."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# Each traded pair and the component that trades it.
PAIRS: dict[str, str] = {"btc_jpy": "btc-jpy-trading", "eth_jpy": "eth-jpy-trading"}
_BASE_PRICES = {"btc_jpy": 15_000_000.0, "eth_jpy": 550_000.0}
_DAILY_VOLUME = {"btc_jpy": 1_200.0, "eth_jpy": 9_000.0}
_BOOK_LEVELS = 10
_CANDLES = 60


def epoch_ms(moment: datetime) -> int:
    """Return ``moment`` as whole milliseconds since the Unix epoch."""
    return int(moment.timestamp() * 1000)


class Market:
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
            "timestamp": epoch_ms(now),
        }

    def orderbook(self, pair: str, now: datetime) -> dict[str, object]:
        """Return ``_BOOK_LEVELS`` price levels a side around the last price."""
        last = self.tick(pair)
        step = max(1.0, round(last * 0.0001))
        bids = [[last - step * (i + 1), self._size()] for i in range(_BOOK_LEVELS)]
        asks = [[last + step * (i + 1), self._size()] for i in range(_BOOK_LEVELS)]
        return {"pair": pair, "bids": bids, "asks": asks, "timestamp": epoch_ms(now)}

    def candles(self, pair: str, now: datetime) -> dict[str, object]:
        """Return the last hour of one-minute candles, ending at the current price."""
        minute = now.replace(second=0, microsecond=0)
        close = self.last[pair]
        candles: list[dict[str, float]] = []
        for age in range(_CANDLES):
            # Walk backwards from the current price so the newest candle closes at it.
            candle = self._candle(epoch_ms(minute - timedelta(minutes=age)), close)
            candles.append(candle)
            close = candle["open"]
        candles.reverse()
        return {"pair": pair, "interval": "1m", "candles": candles, "timestamp": epoch_ms(now)}

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
