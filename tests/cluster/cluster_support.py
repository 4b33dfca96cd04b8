"""A small exwatch cluster as real processes: one api replica and engines, on PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.cluster.drill_support import ExwatchProcess, eventually, start_exwatch
from tests.cluster.private_postgres import free_port
from tests.postgres import POSTGRES_URL, require_postgres, reset_postgres

START_S = 60.0  # importing and migrating take long on a busy machine
LEASE_S = 2.0
TOKEN = "drill-" + "x" * 32


@dataclass
class Cluster:
    """The processes of one drill, their config and their database."""

    config: Path
    logs: Path
    env: dict[str, str]
    api: ExwatchProcess | None = None
    engines: list[ExwatchProcess] = field(default_factory=list)

    async def start_api(self) -> ExwatchProcess:
        """Start the api replica and wait until it serves its page."""
        self.api = await self._start("api", "api.log")
        await eventually(
            lambda: _get(self.api, "/healthz"), lambda r: r.status_code == 200, "the api replica",
            within=START_S,
        )  # fmt: skip
        return self.api

    async def start_engine(self) -> ExwatchProcess:
        """Start one more engine and wait until it answers /healthz (leader or standby)."""
        engine = await self._start(
            "engine", f"engine{len(self.engines)}.log", "--lease", str(LEASE_S)
        )
        self.engines.append(engine)
        await eventually(
            lambda: health(engine), lambda h: h.get("role") == "engine", "an engine", within=START_S
        )
        return engine

    async def _start(self, role: str, log: str, *extra: str) -> ExwatchProcess:
        args = [
            "run",
            "--config",
            str(self.config),
            "--role",
            role,
            "--port",
            str(free_port()),
            *extra,
        ]
        return await start_exwatch(args, self.env, log_path=self.logs / log)

    def all(self) -> list[ExwatchProcess]:
        """Every process started, api first."""
        return [p for p in (self.api, *self.engines) if p is not None]

    def logs_text(self) -> str:
        """Every process's log, headed by its file name."""
        return "\n".join(f"--- {p.log_path.name}\n{p.log_text()}" for p in self.all())


@contextlib.asynccontextmanager
async def cluster(
    config: str, tmp_path: Path, env: Mapping[str, str] | None = None, *, url: str | None = None
) -> AsyncIterator[Cluster]:
    """A cluster on ``url`` (by default the tests' database, emptied first); every process is
    stopped at the end."""
    if url is None:
        require_postgres()
        await reset_postgres()
    path = tmp_path / "exwatch.yaml"
    path.write_text(config, encoding="utf-8")
    running = Cluster(
        path,
        tmp_path,
        {"EXWATCH_DATABASE_URL": url or POSTGRES_URL, "EXWATCH_ADMIN_TOKEN": TOKEN, **(env or {})},
    )
    try:
        yield running
    finally:
        for process in running.all():
            await process.stop()
        print(running.logs_text())  # shown by pytest when a drill fails


async def _get(process: ExwatchProcess | None, path: str) -> httpx.Response:
    assert process is not None
    async with httpx.AsyncClient(base_url=process.base_url, timeout=3) as client:
        return await client.get(path)


async def health(process: ExwatchProcess) -> dict[str, Any]:
    """An engine's /healthz answer ({} when it does not answer)."""
    try:
        answer: dict[str, Any] = (await _get(process, "/healthz")).json()
    except (OSError, httpx.HTTPError, ValueError):
        return {}
    return answer


async def leader_of(engines: list[ExwatchProcess]) -> ExwatchProcess | None:
    """The engine whose /healthz says it leads, if exactly one does."""
    leading = [e for e in engines if e.alive and (await health(e)).get("leader")]
    return leading[0] if len(leading) == 1 else None


async def fetch(query: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of ``query`` on the drill's database."""
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def execute_many(query: str, rows: list[tuple[Any, ...]]) -> None:
    """Run ``query`` once per row on the drill's database."""
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await connection.executemany(query, rows)
    finally:
        await connection.close()
