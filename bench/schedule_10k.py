"""Benchmark: 10,000 checks every 10 s for two minutes through the real scheduler and engine.

Reports start lateness (p50/p99), event-loop lag, peak RSS and rows written. Target: nginx on
loopback (bench/peers.py). Bounded: SECONDS of scheduling, then a clean stop.
Run: .venv/bin/python bench/schedule_10k.py   (goals: p99 lateness < 250 ms, RSS < 1 GB)
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import nginx
from monitor.app import build_services
from monitor.clock import SystemClock
from monitor.config import config_model
from monitor.loop_lag import LoopLagMonitor
from monitor.scheduler import CheckScheduler
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.tables import probe_results
from probes import REGISTRY

CHECKS = 10_000
INTERVAL = "10s"
SECONDS = 130.0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(root: Path) -> None:
    with nginx(root / "nginx") as url:
        document = {
            "site": {"name": "bench"},
            "components": [{"id": "c", "names": {"ja": "c", "en": "c"}, "impact_class": "trading"}],
            "checks": [
                {"id": f"check-{i}", "component": "c", "kind": "http", "url": url, "interval": INTERVAL,
                 "timeout": "5s", "conditions": ["[STATUS] == 200"]}
                for i in range(CHECKS)
            ],
        }  # fmt: skip
        config = config_model().model_validate(document)
        database = Database(f"sqlite+aiosqlite:///{root / 'bench.db'}")
        await upgrade(database)
        services = build_services(config, database)
        await services.engine.start()
        services.writer.start()
        lateness: list[float] = []
        loop_lags: list[float] = []
        clock = SystemClock()
        scheduler = CheckScheduler(
            config.checks, REGISTRY, services.engine.ingest, clock, on_lag=lateness.append
        )
        lag = LoopLagMonitor(loop_lags.append, interval=0.1)
        lag.start()
        started = time.monotonic()
        scheduler.start()
        await asyncio.sleep(SECONDS)
        await scheduler.stop()
        await lag.stop()
        await services.writer.stop()
        async with database.transaction() as session:
            rows = await session.scalar(select(func.count()).select_from(probe_results)) or 0
        await database.close()
    wall = time.monotonic() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{CHECKS} checks every {INTERVAL} for {wall:.0f} s against nginx on loopback")
    print(f"runs started  {len(lateness)}  ({len(lateness) / wall:.0f}/s); rows written {rows}")
    print(f"start lateness p50 {quantile(lateness, 0.5) * 1000:.1f} ms, p99 {quantile(lateness, 0.99) * 1000:.1f} ms,"
          f" max {max(lateness, default=0) * 1000:.1f} ms")  # fmt: skip
    print(f"event-loop lag p50 {quantile(loop_lags, 0.5) * 1000:.1f} ms, p99 {quantile(loop_lags, 0.99) * 1000:.1f} ms,"
          f" mean {statistics.fmean(loop_lags) * 1000 if loop_lags else 0:.1f} ms")  # fmt: skip
    print(f"peak RSS {rss_mb:.0f} MB")


def main() -> None:
    """Run in a scratch directory nginx's workers can read."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        uvloop.run(run(root))


if __name__ == "__main__":
    main()
