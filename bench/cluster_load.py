"""Benchmark: the scale-out load drill of #9: api replicas and an engine on PostgreSQL.

In one run, on loopback: nginx serving a health file (the checks' target); a fresh PostgreSQL
database; ``exwatch run --role engine`` (elected leader) running the 40-component page's checks
plus ``--checks`` http checks every second (~1,000 checks/s); ``--replicas`` (2) ``exwatch run
--role api`` processes behind nginx as the load balancer (round robin, keep-alive upstreams);
wrk with ``--connections`` (2,000) on ``/`` and ``/api/v2/summary.json`` through the balancer.
Meanwhile: checks/s and failed/s from the results stored in the database, start lateness
(the scheduler lag histogram on the engine's /metrics, p50/p99), event-loop lag, and each role's
CPU used and time spent waiting for a CPU. Then the same database reset, config and wrk against
one ``exwatch run --role all`` process (the single-process mode of #3 and #5), and the ratios.

Every wrk run is bounded (``--seconds``); every wait has a deadline; every process started is
stopped by its process group. Run:
.venv/bin/python bench/cluster_load.py [--connections 2000] [--seconds 20] [--checks 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster_support import (
    Traffic,
    balancer,
    exwatch_role,
    group_cpu_seconds,
    open_incidents,
    psql,
    reset_database,
    results_between,
    scrape,
    wrk_run,
)
from bench.peers import nginx
from bench.statuspage_load import PATHS, config_text, lag_p99, wait_for

SETTLE_SECONDS = 5.0  # the scheduler spreads first runs over one interval
FLUSH_SECONDS = 8.0  # the result writer flushes every second; late when flooded
INCIDENTS = 2  # config_text's two failing checks
Env = dict[str, str]
# The single-process figures as bench/README.md records them (#3's schedule_10k.py, #5's
# statuspage_load.py on a quiet machine: 64 connections, SQLite, 1,000 checks/s in-process).
RECORDED = (
    "#3 schedule_10k.py: 10,000 checks every 10 s, 994 runs/s, start lateness p50 0.4 ms, "
    "p99 190.6 ms",
    "#5 statuspage_load.py, --role all + 1,000 checks/s, 64 connections: / 25,606 req/s p99 "
    "212.95 ms; summary 26,638 req/s p99 298.52 ms; checks 1,108 → 412/s under the flood",
)


@dataclass(frozen=True, slots=True)
class Engine:
    """What the checking process did over a window."""

    checks_per_second: float
    failed_per_second: float
    lateness_p50_ms: float
    lateness_p99_ms: float
    loop_lag_p99: str
    cores: dict[str, float]
    starved: dict[str, float]  # per second, how long the role's threads waited for a CPU
    scrape_seconds: float

    def line(self) -> str:
        """``N checks/s (F failed)  lateness p50 … p99 …  loop lag …  cores …``."""
        cores = ", ".join(
            f"{role} {value:.2f} (waiting {self.starved[role]:.2f})"
            for role, value in self.cores.items()
        )
        return (
            f"{self.checks_per_second:6.0f} checks/s ({self.failed_per_second:.0f} failed)  "
            f"lateness p50 {_ms(self.lateness_p50_ms)} p99 {_ms(self.lateness_p99_ms)}  "
            f"loop lag p99 {self.loop_lag_p99}  cores: {cores}  "
            f"(/metrics took {self.scrape_seconds:.1f} s)"
        )


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value != float("inf") else "> 5 s"


@dataclass(frozen=True, slots=True)
class Reading:
    """One scrape of the checking process's /metrics: two histograms, and its cost."""

    lateness: dict[float, float]
    loop_lag: dict[float, float]
    seconds: float

    @classmethod
    def of(cls, base: str) -> Reading:
        """Scrape once: with 1,000 checks it is megabytes, and rendering it holds the loop."""
        text, seconds = scrape(base)
        return cls(
            lateness=_buckets("exwatch_scheduler_lag_seconds", text),
            loop_lag=_buckets("exwatch_event_loop_lag_seconds", text),
            seconds=seconds,
        )


def _buckets(name: str, text: str) -> dict[float, float]:
    """A histogram's cumulative buckets (seconds → count)."""
    found = re.findall(rf'^{name}_bucket\{{le="([^"]+)"\}} (\S+)$', text, re.M)
    return {float(bound): float(count) for bound, count in found}


def quantile_ms(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The ``q`` quantile of what was observed between two readings, in ms, interpolated
    linearly inside its bucket as Prometheus's histogram_quantile does (inf: last bucket)."""
    bounds = sorted(after)
    counts = [after[bound] - before.get(bound, 0.0) for bound in bounds]
    if not counts or counts[-1] <= 0:
        return float("nan")
    rank, lower, below = q * counts[-1], 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return float("inf")
            share = (rank - below) / (count - below) if count > below else 1.0
            return (lower + (bound - lower) * share) * 1000
        lower, below = bound, count
    return float("inf")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a phase's figures come from: the checking process, the database, the roles' pids."""

    engine: str
    server: str
    database: str
    groups: dict[str, list[int]]


class Watch:
    """Results in the database, the checking process's histograms and every role's CPU."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.first = Reading.of(target.engine)  # first: its own stall is inside the window
        self.cpu, self.since = self._cpu(), self._now()
        self.started = time.monotonic()

    def _now(self) -> str:
        return psql(self.target.server, self.target.database, "select now()")

    def _cpu(self) -> dict[str, tuple[float, float]]:
        """Per role: CPU seconds used, and seconds spent waiting for a CPU."""
        figures = {}
        for role, pids in self.target.groups.items():
            each = [group_cpu_seconds(pid) for pid in pids]
            figures[role] = (sum(used for used, _ in each), sum(waited for _, waited in each))
        return figures

    def stop(self) -> Watch:
        """End the window: the time, CPU and histograms now (results are counted later)."""
        self.until, self.cpu_after = self._now(), self._cpu()
        self.elapsed = time.monotonic() - self.started
        self.last = Reading.of(self.target.engine)
        return self

    def figures(self) -> Engine:
        """The window's checks/s (from the results stored: call once the writer caught up)."""
        target, elapsed = self.target, self.elapsed
        total, failed = results_between(target.server, target.database, self.since, self.until)
        return Engine(
            checks_per_second=total / elapsed,
            failed_per_second=failed / elapsed,
            lateness_p50_ms=quantile_ms(self.first.lateness, self.last.lateness, 0.5),
            lateness_p99_ms=quantile_ms(self.first.lateness, self.last.lateness, 0.99),
            loop_lag_p99=lag_p99(self.first.loop_lag, self.last.loop_lag),
            cores={
                role: (self.cpu_after[role][0] - self.cpu[role][0]) / elapsed for role in self.cpu
            },
            starved={
                role: (self.cpu_after[role][1] - self.cpu[role][1]) / elapsed for role in self.cpu
            },
            scrape_seconds=max(self.first.seconds, self.last.seconds),
        )


@dataclass(frozen=True, slots=True)
class Phase:
    """One setup's figures: the engine before any visitor, then each path under wrk."""

    name: str
    quiet: Engine
    loads: dict[str, Traffic]
    during: dict[str, Engine]


def flood(name: str, front: str, target: Target, options: argparse.Namespace) -> Phase:
    """Let the checks settle, watch them alone, then wrk each path at ``front``."""
    time.sleep(SETTLE_SECONDS)
    print(name, flush=True)
    quiet = Watch(target)
    time.sleep(options.seconds)
    windows, loads = {"(no visitors)": quiet.stop()}, {}
    for path in PATHS:
        _wrk(front + path, 1, options)  # open the connections
        watch = Watch(target)
        loads[path] = _wrk(front + path, options.seconds, options)
        windows[path] = watch.stop()
        print(f"  {path:24} {loads[path].load.line()}  errors: {loads[path].kinds}", flush=True)
    # A flooded process writes its results late: count them once it has caught up.
    time.sleep(FLUSH_SECONDS)
    during = {path: window.figures() for path, window in windows.items()}
    for path, engine in during.items():
        print(f"  {path:24} {engine.line()}")
    return Phase(name, during.pop("(no visitors)"), loads, during)


def _wrk(url: str, seconds: float, options: argparse.Namespace) -> Traffic:
    return wrk_run(
        url, seconds=seconds, connections=options.connections, timeout=options.wrk_timeout,
        nice=options.nice,
    )  # fmt: skip


def cluster(options: argparse.Namespace, command: list[str], config: Path, env: Env) -> Phase:
    """One engine and ``--replicas`` api processes behind nginx."""
    with ExitStack() as stack:
        engine, engine_pid = stack.enter_context(exwatch_role(command, "engine", config, env))
        apis = [
            stack.enter_context(exwatch_role(command, "api", config, env, options.nice))
            for _ in range(options.replicas)
        ]
        for base, _ in apis:
            _wait_for_incidents(base)
        front, nginx_pid = stack.enter_context(
            balancer(
                config.parent / "balancer",
                [base for base, _ in apis],
                options.nginx_workers,
                options.nice,
            )
        )
        groups = {"engine": [engine_pid], "api": [pid for _, pid in apis], "nginx": [nginx_pid]}
        target = Target(engine, options.postgres, options.database, groups)
        name = (
            f"cluster: 1 engine + {options.replicas} api behind nginx "
            f"({options.nginx_workers} worker), wrk on nginx"
        )
        return flood(name, front, target, options)


def single(options: argparse.Namespace, command: list[str], config: Path, env: Env) -> Phase:
    """One ``--role all`` process: the page and the checks share its event loop."""
    with exwatch_role(command, "all", config, env) as (base, pid):
        _wait_for_incidents(base)
        target = Target(base, options.postgres, options.database, {"all": [pid]})
        return flood("single: one --role all process, wrk on it", base, target, options)


def _wait_for_incidents(base: str) -> None:
    wait_for(lambda: open_incidents(base) >= INCIDENTS, 90, f"{INCIDENTS} open incidents on {base}")


def report(phases: list[Phase]) -> None:
    """The table: each phase's wrk figures and engine figures, then cluster / single."""
    print(f"\n{'':8} {'path':22} {'req/s':>8} {'p99 ms':>8} {'errors':>7} {'checks/s':>9} "
          f"{'failed/s':>9} {'late p50':>9} {'late p99':>9}")  # fmt: skip
    for phase in phases:
        label = phase.name.split(":")[0]
        print(f"{label:8} {'(no visitors)':22} {'':8} {'':8} {'':7} {_engine_cells(phase.quiet)}")
        for path in PATHS:
            load = phase.loads[path].load
            print(f"{label:8} {path:22} {load.requests_per_second:8.0f} {load.p99_ms:8.1f} "
                  f"{load.errors:7d} {_engine_cells(phase.during[path])}")  # fmt: skip
    if len(phases) == 2:
        _ratios(*phases)
    print("recorded single-process figures (bench/README.md):")
    for line in RECORDED:
        print(f"  {line}")


def _engine_cells(engine: Engine) -> str:
    return (
        f"{engine.checks_per_second:9.0f} {engine.failed_per_second:9.0f} "
        f"{engine.lateness_p50_ms:9.1f} {engine.lateness_p99_ms:9.1f}"
    )


def _ratios(ours: Phase, single: Phase) -> None:
    for path in PATHS:
        mine, theirs = ours.loads[path].load, single.loads[path].load
        checks = _ratio(ours.during[path].checks_per_second, single.during[path].checks_per_second)
        print(
            f"  {path:22} cluster / single: "
            f"{_ratio(mine.requests_per_second, theirs.requests_per_second)} req/s, "
            f"p99 {mine.p99_ms:.1f} vs {theirs.p99_ms:.1f} ms, checks/s {checks}"
        )


def _ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.2f}×" if theirs else "n/a"


@contextmanager
def scratch_directory() -> Iterator[Path]:
    """A temporary directory nginx's workers (nobody) can read."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        yield root


def run(options: argparse.Namespace, root: Path) -> None:
    """Both setups against the same target, each on a freshly created database."""
    command = shlex.split(options.exwatch)
    setups: list[tuple[str, Callable[..., Phase]]] = [("cluster", cluster)]
    if not options.skip_single:
        setups.append(("single", single))
    with nginx(root / "target") as health:
        print(f"target: nginx on loopback; {options.checks} checks every 1 s + 40 page checks "
              f"every 2 s; wrk -t1 -c{options.connections} -d{options.seconds:g}s "
              f"--timeout {options.wrk_timeout:g}s, gzip; nice {options.nice}")  # fmt: skip
        phases = []
        for name, setup in setups:
            directory = root / name
            directory.mkdir()
            config = directory / "config.yaml"
            config.write_text(config_text(health, extra_checks=options.checks))
            url = reset_database(options.postgres, options.database)
            env = {**os.environ, "EXWATCH_DATABASE_URL": url}
            phases.append(setup(options, command, config, env))
    report(phases)


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000, help="wrk connections")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each wrk run")
    parser.add_argument("--checks", type=int, default=1000, help="http checks every second")
    parser.add_argument("--replicas", type=int, default=2, help="api processes (1–4)")
    parser.add_argument("--nginx-workers", type=int, default=1, help="the balancer's workers")
    parser.add_argument("--wrk-timeout", type=float, default=10.0,
                        help="wrk --timeout, seconds: a slower answer counts as an error")  # fmt: skip
    parser.add_argument("--nice", type=int, default=0,
                        help="wrk, nginx and the api processes at this nice level (0–19)")  # fmt: skip
    parser.add_argument("--postgres", default="127.0.0.1:5432", help="PostgreSQL host:port")
    parser.add_argument("--database", default="bench_cluster",
                        help="database to DROP and create for each setup")  # fmt: skip
    parser.add_argument("--skip-single", action="store_true", help="no --role all comparison")
    parser.add_argument("--exwatch", default=f"{sys.executable} -m monitor.cli",
                        help="the command that runs exwatch (default: this checkout's)")  # fmt: skip
    options = parser.parse_args()
    if not (1 <= options.connections <= 10_000 and 1 <= options.seconds <= 120):
        parser.error("--connections must be 1–10000 and --seconds 1–120")
    if not (0 <= options.checks <= 5000 and 1 <= options.replicas <= 4):
        parser.error("--checks must be 0–5000 and --replicas 1–4")
    if not (1 <= options.nginx_workers <= 4 and 1 <= options.wrk_timeout <= 60):
        parser.error("--nginx-workers must be 1–4 and --wrk-timeout 1–60")
    if not 0 <= options.nice <= 19:
        parser.error("--nice must be 0–19")
    with scratch_directory() as root:
        run(options, root)


if __name__ == "__main__":
    main()
