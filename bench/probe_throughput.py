"""Benchmark: exwatch's whole probe path against blackbox_exporter, same nginx target, same concurrency.

exwatch: CheckScheduler.run_check → http probe on a fresh connection → conditions → metrics →
alert engine → batched writes to SQLite, for CHECKS distinct checks. blackbox_exporter: its
/probe endpoint (module http_2xx) driven by a keep-alive client loop. Both loops are bounded in
time and count, loopback only. Run: .venv/bin/python bench/probe_throughput.py
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import uvloop
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import blackbox_exporter, nginx, process_cpu_seconds
from monitor.app import build_services
from monitor.config import config_model
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.tables import probe_results

CHECKS = 500
CONCURRENCY = 64
SECONDS = 15.0
MAX_RUNS = 400_000


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def config_for(url: str) -> object:
    document = {
        "site": {"name": "bench"},
        "components": [{"id": "c", "names": {"ja": "c", "en": "c"}, "impact_class": "trading"}],
        "checks": [
            {"id": f"check-{i}", "component": "c", "kind": "http", "url": url, "interval": "10s",
             "timeout": "5s", "conditions": ["[STATUS] == 200", '[BODY].status == "ok"']}
            for i in range(CHECKS)
        ],
    }  # fmt: skip
    return config_model().model_validate(document)


async def exwatch_side(url: str, root: Path) -> dict[str, float]:
    database = Database(f"sqlite+aiosqlite:///{root / 'bench.db'}")
    await upgrade(database)
    services = build_services(config_for(url), database)  # type: ignore[arg-type]
    await services.engine.start()
    services.writer.start()
    checks = list(services.config.checks)
    runs = 0
    deadline = time.monotonic() + SECONDS

    async def worker(offset: int) -> None:
        nonlocal runs
        index = offset
        while time.monotonic() < deadline and runs < MAX_RUNS:
            await services.scheduler.run_check(checks[index % len(checks)])
            runs += 1
            index += CONCURRENCY

    cpu, started = cpu_seconds(), time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    wall, cpu = time.monotonic() - started, cpu_seconds() - cpu
    await services.scheduler.stop()  # closes the probes' client sessions
    await services.writer.stop()
    failed = sum(
        sample.value
        for metric in services.metrics_registry.collect()
        for sample in metric.samples
        if sample.name == "exwatch_probe_runs_total" and sample.labels["outcome"] == "failure"
    )
    async with database.transaction() as session:
        rows = await session.scalar(select(func.count()).select_from(probe_results)) or 0
    await database.close()
    return {"runs": runs, "wall": wall, "cpu": cpu, "rows": rows, "failures": failed}


async def blackbox_side(target: str, root: Path) -> dict[str, float]:
    with blackbox_exporter(root) as (base, pid):
        runs, failures = 0, 0
        deadline = time.monotonic() + SECONDS
        params = {"module": "http_2xx", "target": target}
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY)
        ) as session:

            async def worker() -> None:
                nonlocal runs, failures
                while time.monotonic() < deadline and runs < MAX_RUNS:
                    async with session.get(f"{base}/probe", params=params) as response:
                        failures += "probe_success 1" not in await response.text()
                    runs += 1

            peer_cpu, client_cpu, started = (
                process_cpu_seconds(pid),
                cpu_seconds(),
                time.monotonic(),
            )
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            wall = time.monotonic() - started
            peer_cpu = process_cpu_seconds(pid) - peer_cpu
            client_cpu = cpu_seconds() - client_cpu
    return {
        "runs": runs,
        "wall": wall,
        "cpu": peer_cpu,
        "client_cpu": client_cpu,
        "failures": failures,
    }


async def compare(root: Path) -> None:
    with nginx(root / "nginx") as url:
        ours = await exwatch_side(url, root)
        theirs = await blackbox_side(url, root / "blackbox")
    ours_rate, theirs_rate = ours["runs"] / ours["wall"], theirs["runs"] / theirs["wall"]
    ours_cores, theirs_cores = ours["cpu"] / ours["wall"], theirs["cpu"] / theirs["wall"]
    print(
        f"target: nginx on loopback; {CHECKS} checks, concurrency {CONCURRENCY}, {SECONDS:g} s each"
    )
    print(f"exwatch           {ours_rate:8.0f} probes/s  cpu {ours_cores:.2f} cores"
          f"  ({ours['runs']:.0f} runs, {ours['rows']:.0f} rows written, {ours['failures']:.0f} failed)")  # fmt: skip
    print(f"blackbox_exporter {theirs_rate:8.0f} probes/s  cpu {theirs_cores:.2f} cores"
          f"  (+ client {theirs['client_cpu'] / theirs['wall']:.2f} cores; {theirs['failures']:.0f} failed)")  # fmt: skip
    print(
        f"ratio exwatch / blackbox_exporter: {ours_rate / theirs_rate:.2f}× probes/s, "
        f"{(ours_rate / ours_cores) / (theirs_rate / theirs_cores):.2f}× probes per CPU-second"
    )


def main() -> None:
    """Run both sides in a scratch directory nginx's workers can read."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's workers run as nobody
        uvloop.run(compare(root))


if __name__ == "__main__":
    main()
