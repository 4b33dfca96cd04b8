"""Benchmark: the public page under a flood, exwatch against nginx serving the static export.

In one run, on loopback: ``exwatch run`` (a subprocess, SQLite in a scratch directory) with a
generated 40-component page, two of whose checks fail so the page shows open incidents; then
``exwatch export --gzip`` of the same database, served by nginx (Debian, one worker,
``gzip_static``); wrk (Debian) against ``/`` and ``/api/v2/summary.json`` of both, with
``Accept-Encoding: gzip`` as browsers send it. Then the same with exwatch also running 1,000 http
checks every second (against a second nginx serving a health file) in the same process.
Prints req/s, p99 and the ratio exwatch/nginx; goals: ≥ 0.5× nginx, p99 < 10 ms.

With ``--compare-serving`` it first measures ways of serving the same snapshot bytes: a FastAPI
route, a Starlette route, a raw ASGI route and the middleware exwatch uses.

Every wrk run is bounded (``--seconds``, default 10); every wait has a deadline.
Run: .venv/bin/python bench/statuspage_load.py [--connections 64] [--compare-serving]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import Request, Response  # resolved by FastAPI in the variant endpoints

from bench.peers import free_port, nginx, process_cpu_seconds, require, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("/", "/api/v2/summary.json")
GROUPS = {
    "spot": ("現物取引", "Spot trading"),
    "margin": ("レバレッジ取引", "Margin trading"),
    "deposits": ("入金", "Deposits"),
    "withdrawals": ("出金", "Withdrawals"),
    "fiat": ("日本円入出金", "Yen deposits & withdrawals"),
    "apps": ("ウェブサイト・アプリ", "Website & apps"),
    "api": ("API", "API"),
    "account": ("アカウント", "Account"),
}
COINS = ("BTC", "ETH", "XRP", "SOL", "LTC")
EXTRA_CHECKS = 1_000
STARTUP_SECONDS = 60.0
NGINX_SITE = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  include /etc/nginx/mime.types;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  gzip_static on;
  gzip_vary on;
  server {{
    listen 127.0.0.1:{port};
    root {site};
    index index.html;
    add_header Cache-Control "public, max-age=10, stale-while-revalidate=30";
  }}
}}
"""


def components() -> list[dict[str, Any]]:
    """Forty components in eight groups, named in both languages."""
    made: list[dict[str, Any]] = []
    for group, (ja, en) in GROUPS.items():
        names = _member_names(group)
        for index, (member_ja, member_en) in enumerate(names[:5]):
            made.append({
                "id": f"{group}-{index}", "group": group,
                "names": {"ja": f"{ja}: {member_ja}", "en": f"{en}: {member_en}"},
                "description": {"ja": f"{member_ja}の状態", "en": f"Status of {member_en}"},
                "impact_class": _impact(group),
            })  # fmt: skip
    return made


def _member_names(group: str) -> list[tuple[str, str]]:
    if group in ("spot", "margin", "deposits", "withdrawals"):
        return [(f"{coin}/JPY" if group in ("spot", "margin") else coin,) * 2 for coin in COINS]
    return [
        (f"{GROUPS[group][0]} {number}", f"{GROUPS[group][1]} {number}") for number in range(1, 6)
    ]


def _impact(group: str) -> str:
    return {
        "spot": "trading", "margin": "trading", "deposits": "assets", "withdrawals": "assets",
        "fiat": "assets", "apps": "access", "api": "access", "account": "access",
    }[group]  # fmt: skip


def config_text(health_url: str, *, extra_checks: int) -> str:
    """A config: one check per component (two failing), plus ``extra_checks`` at 1 s."""
    made = components()
    checks = []
    for index, component in enumerate(made):
        failing = index in (0, 17)  # spot BTC/JPY, withdrawals XRP
        checks.append({
            "id": f"{component['id']}-check", "component": component["id"], "kind": "http",
            "url": "http://127.0.0.1:9/" if failing else health_url, "interval": "2s",
            "timeout": "2s", "failures_to_alert": 2, "conditions": ["[STATUS] == 200"],
        })  # fmt: skip
    for index in range(extra_checks):
        checks.append({
            "id": f"load-{index}", "component": made[index % len(made)]["id"], "kind": "http",
            "url": health_url, "interval": "1s", "timeout": "1s", "failures_to_alert": 5,
            "conditions": ["[STATUS] == 200"],
        })  # fmt: skip
    document = {
        "site": {"id": "bench", "name": "Bench Exchange", "url": "https://status.bench.example",
                 "time_zone": "Asia/Tokyo", "languages": ["ja", "en"]},
        "groups": [{"id": g, "names": {"ja": ja, "en": en}} for g, (ja, en) in GROUPS.items()],
        "components": made,
        "checks": checks,
    }  # fmt: skip
    return json.dumps(document, ensure_ascii=False)  # JSON is YAML


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk run's figures."""

    requests_per_second: float
    p99_ms: float
    errors: int

    def line(self) -> str:
        """``N req/s  p99 X ms``."""
        flag = f"  ({self.errors} errors)" if self.errors else ""
        return f"{self.requests_per_second:9.0f} req/s  p99 {self.p99_ms:7.2f} ms{flag}"


def wrk(url: str, *, seconds: float, connections: int) -> Load:
    """Run wrk (one thread: the other core serves) and parse its figures."""
    command = [
        require("wrk"), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
        "-H", "Accept-Encoding: gzip", url,
    ]  # fmt: skip
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    rate = float(_find(r"Requests/sec:\s+([\d.]+)", output))
    p99 = _milliseconds(_find(r"\s99%\s+([\d.]+\w+)", output))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Load(rate, p99, errors)


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return match.group(1)


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` as a browser would (gzip accepted); return status, headers, raw body."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


def wait_for(condition: Any, seconds: float, what: str) -> None:
    """Poll ``condition`` every 0.2 s until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gave up waiting for {what}")


@contextmanager
def exwatch_run(command: list[str], config: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Run ``exwatch run``; yield its base URL and pid once the page shows open incidents."""
    port = free_port()
    log = (config.parent / f"exwatch-{port}.log").open("w")
    process = subprocess.Popen(
        [*command, "run", "--config", str(config), "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, STARTUP_SECONDS)
        wait_for(lambda: _open_incidents(base) >= 2, STARTUP_SECONDS, "two open incidents")
        yield base, process.pid
    except RuntimeError:
        log.flush()
        print((config.parent / f"exwatch-{port}.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
        log.close()


def _open_incidents(base: str) -> int:
    _, _, body = fetch(f"{base}/api/v2/incidents/unresolved.json?lang=en")
    return len(json.loads(_gunzip(body))["incidents"])


def _gunzip(body: bytes) -> bytes:
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


@contextmanager
def nginx_site(root: Path, site: Path) -> Iterator[str]:
    """Serve the static export at ``site`` with nginx; yield its base URL."""
    port = free_port()
    root.mkdir(parents=True)
    (root / "tmp").mkdir()
    (root / "nginx.conf").write_text(NGINX_SITE.format(root=root, port=port, site=site))
    process = subprocess.Popen([require("nginx"), "-c", str(root / "nginx.conf"), "-p", str(root)])
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def export(command: list[str], config: Path, out: Path, env: dict[str, str]) -> None:
    """Write the static export of the database exwatch uses."""
    subprocess.run(
        [*command, "export", "--config", str(config), "--out", str(out), "--gzip"],
        env=env, check=True, timeout=120, capture_output=True,
    )  # fmt: skip


def metrics(base: str) -> str:
    """exwatch's /metrics text."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        return str(response.read().decode())


def check_runs(base: str) -> float:
    """Sum of ``exwatch_probe_runs_total`` on exwatch's /metrics."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics(base).splitlines()
        if line.startswith("exwatch_probe_runs_total{")
    )


def loop_lag_buckets(base: str) -> dict[float, float]:
    """The event-loop lag histogram's cumulative buckets (seconds → count)."""
    found = re.findall(
        r'exwatch_event_loop_lag_seconds_bucket\{le="([^"]+)"\} ([\d.e+]+)', metrics(base)
    )
    return {float(bound): float(count) for bound, count in found}


def lag_p99(before: dict[float, float], after: dict[float, float]) -> str:
    """The bucket holding the 99th percentile of the lag measured between two readings."""
    counts = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = counts.get(float("inf"), 0.0)
    for bound, count in counts.items():
        if total and count >= 0.99 * total:
            return f"≤ {bound * 1000:g} ms" if bound != float("inf") else "beyond the last bucket"
    return "n/a"


def compare_sizes(ours: str, theirs: str) -> None:
    """Both servers must answer 200 with gzip, and bytes of the same page."""
    for path in PATHS:
        sizes = []
        for base in (ours, theirs):
            status, headers, body = fetch(base + path)
            encoding = headers.get("Content-Encoding") or headers.get("content-encoding")
            if status != 200 or encoding != "gzip":
                raise RuntimeError(f"{base}{path}: {status}, Content-Encoding {encoding}")
            sizes.append(f"{len(body)} B gzip / {len(_gunzip(body))} B")
        print(f"  {path:24} exwatch {sizes[0]:24} nginx {sizes[1]}")


def measure(
    targets: dict[str, str], *, seconds: float, connections: int
) -> dict[tuple[str, str], Load]:
    """wrk every path of every target, after a one-second warm-up each."""
    figures = {}
    for name, base in targets.items():
        for path in PATHS:
            wrk(base + path, seconds=1, connections=connections)
            figures[(name, path)] = wrk(base + path, seconds=seconds, connections=connections)
            print(f"  {name:28} {path:24} {figures[(name, path)].line()}", flush=True)
    return figures


def ratios(figures: dict[tuple[str, str], Load], ours: str, theirs: str) -> None:
    """Print exwatch/nginx for each path."""
    for path in PATHS:
        mine, peer = figures[(ours, path)], figures[(theirs, path)]
        print(
            f"  {path:24} {ours} / {theirs}: {mine.requests_per_second / peer.requests_per_second:.2f}× "
            f"req/s; p99 {mine.p99_ms:.2f} ms vs {peer.p99_ms:.2f} ms"
        )


def run(options: argparse.Namespace, scratch: Path) -> None:
    """Both phases: the page alone, then with 1,000 checks a second in the same process."""
    command = shlex.split(options.exwatch)
    url = options.database_url or f"sqlite+aiosqlite:///{scratch / 'bench.db'}"
    env = {**os.environ, "EXWATCH_DATABASE_URL": url}
    with nginx(scratch / "health") as health:
        quiet, busy = scratch / "quiet.yaml", scratch / "busy.yaml"
        quiet.write_text(config_text(health, extra_checks=0))
        busy.write_text(config_text(health, extra_checks=options.checks))
        site = scratch / "site"
        if options.compare_serving:
            compare_serving(options, quiet, env)
        with exwatch_run(command, quiet, env) as (base, _):
            export(command, quiet, site, env)
            site.chmod(0o755)
            with nginx_site(scratch / "nginx", site) as peer:
                print(f"40 components, 2 open incidents; wrk -t1 -c{options.connections} "
                      f"-d{options.seconds:g}s, Accept-Encoding: gzip")  # fmt: skip
                compare_sizes(base, peer)
                print("page alone:")
                alone = measure({"exwatch": base, "nginx (static export)": peer},
                                seconds=options.seconds, connections=options.connections)  # fmt: skip
                ratios(alone, "exwatch", "nginx (static export)")
        with nginx_site(scratch / "nginx-busy", site) as peer:
            busy_phase(options, command, busy, env, peer)


def busy_phase(
    options: argparse.Namespace, command: list[str], busy: Path, env: dict[str, str], peer: str
) -> None:
    """The same flood while the exwatch process also runs ``--checks`` http checks a second."""
    with exwatch_run(command, busy, env) as (base, pid):
        time.sleep(5)  # let the scheduler spread the checks over the second
        name = f"exwatch + {options.checks} checks/s"
        print(f"with {options.checks} more http checks every second in the exwatch process:")
        window = Window(base, pid)
        time.sleep(options.seconds)
        print(f"  before the flood: {window.report()}")
        window = Window(base, pid)
        figures = measure({name: base}, seconds=options.seconds, connections=options.connections)
        print(f"  during the flood: {window.report()}")
        figures |= measure({"nginx (static export)": peer},
                           seconds=options.seconds, connections=options.connections)  # fmt: skip
        ratios(figures, name, "nginx (static export)")


class Window:
    """Checks run, CPU used and event-loop lag of the exwatch process from now on."""

    def __init__(self, base: str, pid: int) -> None:
        self.base, self.pid = base, pid
        self.runs, self.cpu = check_runs(base), process_cpu_seconds(pid)
        self.lag, self.started = loop_lag_buckets(base), time.monotonic()

    def report(self) -> str:
        """``N checks/s run; CPU x cores; event-loop lag p99 ≤ y ms``."""
        elapsed = time.monotonic() - self.started
        rate = (check_runs(self.base) - self.runs) / elapsed
        cores = (process_cpu_seconds(self.pid) - self.cpu) / elapsed
        lag = lag_p99(self.lag, loop_lag_buckets(self.base))
        return f"{rate:.0f} checks/s run; CPU {cores:.2f} cores; event-loop lag p99 {lag}"


VARIANTS = ("fastapi-sync", "fastapi", "starlette", "asgi-route", "middleware", "outermost", "bare")
ROUNDS = 2  # variants interleaved, twice: other work on the machine moves single runs a lot


def compare_serving(options: argparse.Namespace, config: Path, env: dict[str, str]) -> None:
    """wrk the same snapshot served each way of ``VARIANTS``, each in its own uvicorn process."""
    command = shlex.split(options.exwatch)
    with exwatch_run(command, config, env):
        pass  # fills the database: catalog and the two incidents
    print("serving the same snapshot (/api/v2/summary.json, gzip), best of two rounds:")
    best: dict[str, Load] = {}
    for _ in range(ROUNDS):
        for variant in VARIANTS:
            load = _variant_load(variant, options, config, env)
            if variant not in best or load.requests_per_second > best[variant].requests_per_second:
                best[variant] = load
    for variant in VARIANTS:
        print(f"  {variant:12} {best[variant].line()}", flush=True)


def _variant_load(
    variant: str, options: argparse.Namespace, config: Path, env: dict[str, str]
) -> Load:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-variant", variant, "--port", str(port),
         "--config", str(config)],
        env=env,
    )  # fmt: skip
    try:
        wait_for_port(port, STARTUP_SECONDS)
        url = f"http://127.0.0.1:{port}/api/v2/summary.json"
        wrk(url, seconds=1, connections=options.connections)
        return wrk(url, seconds=options.seconds, connections=options.connections)
    finally:
        process.terminate()
        process.wait(10)


def serve_variant(variant: str, port: int, config: Path) -> None:
    """Serve the database's snapshot one way (a subprocess of ``--compare-serving``)."""
    import uvicorn
    import uvloop

    from monitor.app import site_view
    from monitor.clock import SystemClock
    from monitor.config import load_config
    from monitor.static_export import load_state, open_existing
    from statuspage import SnapshotStore

    async def published() -> SnapshotStore:
        database = await open_existing(os.environ["EXWATCH_DATABASE_URL"])
        view = await load_state(database, site_view(load_config(config)), SystemClock())
        await database.close()
        store = SnapshotStore()
        store.publish(view)
        return store

    application = variant_app(variant, uvloop.run(published()))
    uvicorn.run(application, host="127.0.0.1", port=port, log_level="warning",
                access_log=False, loop="uvloop", http="httptools", lifespan="off")  # fmt: skip


def variant_app(variant: str, store: Any) -> Any:
    """The same documents behind one way of serving, with 40 other routes after it (as
    exwatch's API has): a FastAPI route (sync, as exwatch had, or async), a Starlette route, a
    raw ASGI route, the middleware exwatch uses, the same middleware in front of the whole
    FastAPI app, or alone (no FastAPI: the ceiling)."""
    from fastapi import APIRouter, FastAPI

    from statuspage.routes import SnapshotMiddleware, mount

    app, router = FastAPI(), APIRouter()
    route, respond = "/api/v2/{name:path}", _responder(store)

    def blocking(name: str, request: Request) -> Response:  # FastAPI runs it in a thread
        return respond(f"/api/v2/{name}", request)

    async def endpoint(name: str, request: Request) -> Response:
        return respond(f"/api/v2/{name}", request)

    async def plain(request: Request) -> Response:
        return respond(request.url.path, request)

    installers = {
        "fastapi-sync": lambda: router.add_api_route(route, blocking),
        "fastapi": lambda: router.add_api_route(route, endpoint),
        "starlette": lambda: router.add_route(route, plain),
        "asgi-route": lambda: router.add_route(route, SnapshotMiddleware(app, store)),
        "middleware": lambda: mount(app, store),
    }
    if variant in installers:
        installers[variant]()
    app.include_router(router)
    others = APIRouter()
    for number in range(40):
        others.add_api_route(f"/api/admin/thing{number}/{{x}}", lambda x: {})
    app.include_router(others)
    if variant == "outermost":  # in front of FastAPI's own middleware, handed to uvicorn
        return SnapshotMiddleware(app, store)
    if variant == "bare":  # no FastAPI at all: the ceiling of ASGI under uvicorn
        return SnapshotMiddleware(_not_found, store)
    return app


async def _not_found(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _responder(store: Any) -> Any:
    """Build a Starlette response from the snapshot as a route handler would."""
    from statuspage.routes import accepts_gzip, etag_matches

    def respond(path: str, request: Request) -> Response:
        document = store.get(path, store.languages[0])
        form = document.identity
        if document.gzip and accepts_gzip(request.headers.get("accept-encoding", "")):
            form = document.gzip
        headers = {k.decode(): v.decode() for k, v in form.headers if k != b"content-length"}
        if etag_matches(request.headers.get("if-none-match", "").encode(), form.etag):
            return Response(status_code=304, headers=headers)
        return Response(form.body, headers=headers)

    return respond


def main() -> None:
    """Parse options; run in a scratch directory nginx's workers can read."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64–256)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--checks", type=int, default=EXTRA_CHECKS,
                        help="http checks at 1 s in the busy phase (default 1000)")  # fmt: skip
    parser.add_argument("--database-url",
                        help="an EMPTY database for exwatch (default: SQLite in a scratch directory)")  # fmt: skip
    parser.add_argument("--exwatch", default=f"{sys.executable} -m monitor.cli",
                        help="the command that runs exwatch (default: this checkout's)")  # fmt: skip
    parser.add_argument("--compare-serving", action="store_true",
                        help="also measure FastAPI route / Starlette route / ASGI route / middleware")  # fmt: skip
    parser.add_argument("--serve-variant", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if not (1 <= options.connections <= 1024 and 1 <= options.seconds <= 120):
        parser.error("--connections must be 1–1024 and --seconds 1–120")
    if not 0 <= options.checks <= 5000:
        parser.error("--checks must be 0–5000")
    if options.serve_variant:
        serve_variant(options.serve_variant, options.port, options.config)
        return
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        scratch.chmod(0o755)  # nginx's workers run as nobody
        run(options, scratch)


if __name__ == "__main__":
    main()
