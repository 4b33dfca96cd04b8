"""What the fault drills share: exwatch as a real process, a loopback site it probes and
notifies, reading its /metrics, and polling with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
STOP_WAIT_S = 20.0
T = TypeVar("T")


@dataclass
class ExwatchProcess:
    """One running ``exwatch`` subprocess; its stdout and stderr go to ``log_path``."""

    process: asyncio.subprocess.Process
    log_path: Path
    base_url: str

    @property
    def alive(self) -> bool:
        """Whether the process has not exited."""
        return self.process.returncode is None

    def log_text(self) -> str:
        """Everything it has logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def stop(self) -> int:
        """SIGINT, wait (bounded), SIGKILL if it will not go; its exit status."""
        if self.alive:
            self.process.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_WAIT_S)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


async def start_exwatch(
    args: Sequence[str], env: Mapping[str, str], *, log_path: Path
) -> ExwatchProcess:
    """Start ``exwatch ARGS`` (``python -m monitor.cli``) with exactly ``env`` added to ours.

    ``base_url`` is taken from ``--host``/``--port`` in ``args`` (exwatch's defaults otherwise).
    """
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitor.cli", *args,
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    host = _option(args, "--host", "127.0.0.1")
    return ExwatchProcess(process, log_path, f"http://{host}:{_option(args, '--port', '8080')}")


def _option(args: Sequence[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], what: str, *, within: float
) -> T:
    """Call ``probe`` until ``accept`` holds for its answer; fail naming ``what`` after ``within`` s.

    A probe that raises an OSError or httpx error is asked again: the thing may not be up yet.
    """
    deadline = time.monotonic() + within
    last: object = None
    while True:
        try:
            answer = await probe()
            if accept(answer):
                return answer
            last = answer
        except (OSError, httpx.HTTPError) as error:
            last = repr(error)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}; last: {last}")
        await asyncio.sleep(0.2)


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample called ``name`` in a Prometheus text exposition, with its labels."""
    found = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found.append((dict(sample.labels), float(sample.value)))
    return found


def metric_total(text: str, name: str) -> float:
    """The sum of every sample called ``name`` (0 when there is none)."""
    return sum(value for _, value in metric_samples(text, name))


@dataclass
class Hook:
    """One POST the loopback site received."""

    path: str
    body: Any
    at: float  # time.time() on arrival


@dataclass
class LoopbackSite:
    """Targets for http checks (``GET /target/NAME`` answers its status) and a webhook sink."""

    base_url: str = ""
    statuses: dict[str, int] = field(default_factory=dict)
    hooks: list[Hook] = field(default_factory=list)

    def target(self, name: str) -> str:
        """The URL an http check of ``name`` probes."""
        return f"{self.base_url}/target/{name}"

    def answer(self, name: str, status: int) -> None:
        """From now on, ``GET /target/NAME`` answers ``status``."""
        self.statuses[name] = status

    async def serve_target(self, request: web.Request) -> web.Response:
        """Answer a probe with the status set for its target (200 by default)."""
        status = self.statuses.get(request.match_info["name"], 200)
        return web.Response(status=status, text=f"{status}\n")

    async def take_hook(self, request: web.Request) -> web.Response:
        """Record a webhook POST and accept it."""
        body = await request.json()
        self.hooks.append(Hook(request.path, body, time.time()))
        return web.Response(text="ok")


@contextlib.asynccontextmanager
async def loopback_site() -> AsyncIterator[LoopbackSite]:
    """Serve a ``LoopbackSite`` on a free loopback port for the duration."""
    site = LoopbackSite()
    app = web.Application()
    app.router.add_get("/target/{name}", site.serve_target)
    app.router.add_post("/hook", site.take_hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield site
    finally:
        await runner.cleanup()


def drill_document(site: LoopbackSite, components: Mapping[str, str]) -> dict[str, Any]:
    """A config: each component (id → impact class) in its own group with a 1 s http check."""
    return {
        "site": {"name": "Drill", "url": "https://status.example.com"},
        "groups": [{"id": f"g-{c}", "names": {"ja": c, "en": c}} for c in components],
        "components": [
            {"id": c, "names": {"ja": c, "en": c}, "group": f"g-{c}", "impact_class": impact}
            for c, impact in components.items()
        ],
        "checks": [
            {
                "id": f"{c}-check",
                "component": c,
                "kind": "http",
                "url": site.target(c),
                "expect_status": 200,
                "interval": "1s",
                "timeout": "500ms",
                "failures_to_alert": 1,
                "successes_to_recover": 1,
                "on_failure": "major_outage",
            }
            for c in components
        ],
    }
