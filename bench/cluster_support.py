"""Processes and probes of the scale-out load drill: a fresh PostgreSQL database, ``exwatch
run --role`` in its own process group, nginx balancing the api replicas, wrk with its error
kinds, and the checks' results counted in the database.

Every process is started in a new session and stopped by its process group (SIGINT, then
SIGKILL after a deadline), so an api replica's render process goes with it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.peers import free_port, process_cpu_seconds, require, wait_for_port
from bench.statuspage_load import Load, fetch, wait_for

STARTUP_SECONDS = 90.0
SCRAPE_SECONDS = 120.0  # an engine's /metrics with 1,000 checks is megabytes, slow when busy
STOP_SECONDS = 30.0
BALANCER_CONF = """
worker_processes {workers};
worker_rlimit_nofile 16384;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  upstream api {{
{servers}
    keepalive 1024;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }}
  }}
}}
"""


def psql(server: str, database: str, statement: str) -> str:
    """Run one statement with psql on ``server`` (host:port); return its unaligned output."""
    host, port = server.rsplit(":", 1)
    argv = [require("psql"), "-h", host, "-p", port, "-U", "postgres", "-d", database]
    done = subprocess.run(
        [*argv, "-v", "ON_ERROR_STOP=1", "-Atc", statement],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def reset_database(server: str, name: str) -> str:
    """Drop and create database ``name`` on ``server``; return its asyncpg URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"--database {name!r}: lower-case letters, digits and _ only")
    psql(server, "postgres", f"drop database if exists {name} with (force)")
    psql(server, "postgres", f"create database {name}")
    return f"postgresql+asyncpg://postgres@{server}/{name}"


def results_between(server: str, name: str, start: str, end: str) -> tuple[int, int]:
    """Check results observed in [start, end) (database timestamps): all, and failed."""
    row = psql(
        server, name,
        "select count(*), count(*) filter (where not ok) from probe_results "
        f"where observed_at >= '{start}' and observed_at < '{end}'",
    )  # fmt: skip
    total, failed = row.split("|")
    return int(total), int(failed)


def scrape(base: str) -> tuple[str, float]:
    """``base``'s /metrics text and how long it took to get it."""
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}/metrics", timeout=SCRAPE_SECONDS) as response:
        text = response.read().decode()
    return text, time.monotonic() - started


@dataclass(frozen=True, slots=True)
class Traffic:
    """One wrk run: its figures and what its errors were."""

    load: Load
    kinds: str


def wrk_run(
    url: str, *, seconds: float, connections: int, timeout: float, nice: int = 0
) -> Traffic:
    """wrk -t1 with ``--timeout`` (a slower answer is a timeout error); errors by kind."""
    command = [
        require("wrk"), "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout:g}s",
        "--latency", "-H", "Accept-Encoding: gzip", url,
    ]  # fmt: skip
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + timeout + 60,
        start_new_session=True, preexec_fn=lower_priority(nice) if nice else None,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", output)
    if rate is None or p99 is None:
        raise RuntimeError(f"wrk printed no figures:\n{output}")
    kinds = dict(re.findall(r"(connect|read|write|timeout) (\d+)", output))
    kinds["non-2xx"] = (re.findall(r"Non-2xx or 3xx responses: (\d+)", output) or ["0"])[0]
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = sum(int(n) for n in kinds.values())
    load = Load(float(rate.group(1)), float(p99.group(1)) * unit, errors)
    named = ", ".join(f"{kind} {n}" for kind, n in kinds.items() if int(n))
    return Traffic(load, named or "none")


@contextmanager
def process_group(
    command: list[str], log: Path, env: dict[str, str], nice: int = 0
) -> Iterator[int]:
    """Run ``command`` in a new session, output to ``log``; yield its pid; stop its group."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=lower_priority(nice) if nice else None,  # noqa: PLW1509 (no threads here)
        )  # fmt: skip
        try:
            yield process.pid
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGINT the process group (a graceful stop), SIGKILL it if it outlives the deadline."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"pid {process.pid} ignored SIGINT for {STOP_SECONDS:g} s: killed", file=sys.stderr)
    except ProcessLookupError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left (render process)
    process.wait(STOP_SECONDS)


@contextmanager
def exwatch_role(
    command: list[str], role: str, config: Path, env: dict[str, str], nice: int = 0
) -> Iterator[tuple[str, int]]:
    """Run ``exwatch run --role role``; yield its base URL and pid once it answers /healthz."""
    port = free_port()
    log = config.parent / f"{role}-{port}.log"
    argv = [*command, "run", "--role", role, "--config", str(config), "--port", str(port)]
    with process_group(argv, log, env, nice) as pid:
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_port(port, STARTUP_SECONDS)
            wait_for(lambda: _healthy(base, role), STARTUP_SECONDS, f"{role} on {base} healthy")
        except RuntimeError:
            print(f"--- {log.name}:\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
        yield base, pid


def _healthy(base: str, role: str) -> bool:
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        answer = json.loads(response.read())
    return bool(answer.get("leader") if role == "engine" else answer.get("ok"))


def open_incidents(base: str) -> int:
    """How many incidents ``base``'s public API lists as unresolved."""
    _, _, body = fetch(f"{base}/api/v2/incidents/unresolved.json?lang=en")
    return len(json.loads(_plain(body))["incidents"])


def _plain(body: bytes) -> bytes:
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


@contextmanager
def balancer(
    root: Path, bases: list[str], workers: int, nice: int = 0
) -> Iterator[tuple[str, int]]:
    """nginx proxying to ``bases`` round robin (keep-alive upstreams); yield its URL and pid."""
    port = free_port()
    root.mkdir(parents=True)
    (root / "tmp").mkdir()
    servers = "\n".join(f"    server {base.removeprefix('http://')};" for base in bases)
    conf = BALANCER_CONF.format(root=root, port=port, servers=servers, workers=workers)
    (root / "nginx.conf").write_text(conf)
    argv = [require("nginx"), "-c", str(root / "nginx.conf"), "-p", str(root)]
    with process_group(argv, root / "nginx.out", dict(os.environ), nice) as pid:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", pid


def lower_priority(nice: int) -> Callable[[], None]:
    """A child's first step: run at ``nice`` (its new session's autogroup too, since with
    autogroups a plain nice only ranks processes inside one session)."""

    def lower() -> None:
        os.nice(nice)
        with contextlib.suppress(OSError):  # no autogroups on this kernel: nice alone
            Path("/proc/self/autogroup").write_text(str(nice))

    return lower


def group_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of ``pid`` and every process in its session (nginx workers, render process),
    and the seconds their threads waited for a CPU while runnable (the machine's contention)."""
    used = waited = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == pid:  # the session id: the leader's pid (start_new_session)
                used += process_cpu_seconds(int(stat.parent.name))
                waited += _runqueue_seconds(stat.parent)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return used, waited


def _runqueue_seconds(process: Path) -> float:
    """Seconds the process's threads spent runnable but not running (schedstat, field 2)."""
    return sum(
        int(schedstat.read_text().split()[1]) / 1e9
        for schedstat in process.glob("task/*/schedstat")
    )
