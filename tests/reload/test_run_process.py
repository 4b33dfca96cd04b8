"""``exwatch run``: ``kill -HUP`` and ``exwatch config reload --url`` reload the running process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from monitor.cli import app
from tests.export.test_cli_export import ROOT
from tests.export.test_run_serving import BOUND, first_answer, free_port
from tests.reload.support import base_document

TOKEN = "reload-test-admin-token-0123456789"


def components_only(name: str) -> str:
    """The test document without checks (nothing probes anything), named ``name``."""
    document = base_document()
    document["checks"] = []
    document["site"]["name"] = name
    return yaml.safe_dump(document, allow_unicode=True)


async def page_name(client: httpx.AsyncClient, wanted: str) -> str:
    """The page's name once it is ``wanted`` (bounded), or the last one seen."""
    deadline = time.monotonic() + BOUND
    while True:
        name = str((await client.get("/api/v2/summary.json")).json()["page"]["name"])
        if name == wanted or time.monotonic() > deadline:
            return name
        await asyncio.sleep(0.2)


async def audited_methods(client: httpx.AsyncClient, *, wanted: int) -> list[str]:
    """The audit log's methods once it has ``wanted`` entries (written after the answer)."""
    deadline = time.monotonic() + BOUND
    while True:
        headers = {"authorization": f"Bearer {TOKEN}"}
        entries = (await client.get("/api/admin/audit", headers=headers)).json()["entries"]
        if len(entries) >= wanted or time.monotonic() > deadline:
            return [str(e["method"]) for e in entries]
        await asyncio.sleep(0.1)


async def test_sighup_and_the_cli_reload_a_running_exwatch(tmp_path: Path) -> None:
    config = tmp_path / "exwatch.yaml"
    config.write_text(components_only("Before"), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ, "EXWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "EXWATCH_ADMIN_TOKEN": TOKEN,
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "run", "--config", str(config), "--port", str(port),
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            await first_answer(client, "/healthz")
            config.write_text(components_only("After SIGHUP"), encoding="utf-8")
            process.send_signal(signal.SIGHUP)
            assert await page_name(client, "After SIGHUP") == "After SIGHUP"
            config.write_text(components_only("After the CLI"), encoding="utf-8")
            result = await asyncio.to_thread(
                CliRunner().invoke, app, ["config", "reload", "--url", url], env={
                    "EXWATCH_ADMIN_TOKEN": TOKEN,
                },
            )  # fmt: skip
            assert result.exit_code == 0, result.output
            assert '"site.name"' in result.output
            assert await page_name(client, "After the CLI") == "After the CLI"
            methods = await audited_methods(client, wanted=2)
            assert methods == ["SIGHUP", "POST"]
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), BOUND)
    assert process.returncode == 0, errors.decode()
    assert b"config reloaded by signal:SIGHUP" in errors, errors.decode()


def test_the_cli_prints_every_problem_of_a_refused_file(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {
        "error": "invalid config: nothing changed", "source": "x.yaml",
        "problems": [{"path": "checks[0].interval", "message": "must be at least 1s"}],
    }  # fmt: skip
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(422, json=body)

    def post(url: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(transport=httpx.MockTransport(answer)) as client:
            return client.post(url, headers=kwargs["headers"])

    monkeypatch.setattr(httpx, "post", post)
    result = CliRunner().invoke(app, ["config", "reload", "--url", "http://x/", "--token", "t"])
    assert result.exit_code == 2
    assert "checks[0].interval: must be at least 1s" in result.output
    [request] = sent
    assert str(request.url) == "http://x/api/admin/config/reload"
    assert request.headers["authorization"] == "Bearer t"


def test_the_cli_needs_a_token() -> None:
    result = CliRunner().invoke(app, ["config", "reload", "--url", "http://x"], env={
        "EXWATCH_ADMIN_TOKEN": "",
    })  # fmt: skip
    assert result.exit_code == 2
    assert "--token" in result.output
