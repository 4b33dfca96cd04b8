"""Agents of one region share its checks: each runs only its own, and rebalances on a refetch."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.agent import Agent, AgentApi, AgentSettings, DiskBuffer
from monitor.agent.rendezvous import owned
from tests.agent.test_agent import Target, until

TOKEN = "s3cret-agent-token"
CHECK_IDS = [f"c{n}" for n in range(12)]


@dataclass
class Roster:
    """The checks endpoint of a server that shares checks: it lists ``agents`` as live."""

    checks: list[dict[str, Any]]
    agents: list[str] | None = field(default_factory=list)
    callers: list[str | None] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.callers.append(request.url.params.get("agent"))
        document: dict[str, Any] = {"version": "v1", "checks": self.checks}
        if self.agents is not None:
            document["agents"] = self.agents
        return httpx.Response(200, json=document)


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    target = Target()
    await target.start()
    yield target
    assert target.server is not None
    await target.server.close()


@contextlib.asynccontextmanager
async def agent_of(roster: Roster, tmp_path: Path, agent_id: str | None) -> AsyncIterator[Agent]:
    """An agent whose check set comes from ``roster``; refetched by hand, never pushing."""
    settings = AgentSettings(
        "https://exwatch.test", "tokyo", TOKEN, tmp_path / str(agent_id), agent_id=agent_id
    )
    buffer = DiskBuffer(settings.buffer_path, settings.max_buffered)
    async with AgentApi(settings, transport=httpx.MockTransport(roster.handle)) as api:
        agent = Agent(settings, api, buffer)
        try:
            yield agent
        finally:
            await agent._stop_scheduler()
            buffer.close()


async def buffered_checks(agent: Agent) -> set[str]:
    rows = await agent._buffer.peek(10_000)
    return {json.loads(payload)["check_id"] for _, payload in rows}


async def test_two_agents_split_the_checks_and_each_runs_only_its_own(
    target: Target, tmp_path: Path
) -> None:
    roster = Roster([target.check(c) for c in CHECK_IDS], agents=["one", "two"])
    async with (
        agent_of(roster, tmp_path, "one") as one,
        agent_of(roster, tmp_path, "two") as two,
    ):
        assert await one.refetch() and await two.refetch()
        assert roster.callers == ["one", "two"]  # each fetch names its agent: a heartbeat
        assert one.owned_ids | two.owned_ids == set(CHECK_IDS)
        assert not one.owned_ids & two.owned_ids and one.owned_ids and two.owned_ids
        await until(lambda: set(target.hits) == {f"/{c}" for c in CHECK_IDS})
        assert await buffered_checks(one) <= one.owned_ids
        assert await buffered_checks(two) <= two.owned_ids
        assert (one.stats.owned_checks, one.stats.region_checks) == (len(one.owned_ids), 12)


async def test_an_agent_takes_over_the_checks_of_one_that_left_and_hands_them_back(
    target: Target, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    roster = Roster([target.check(c) for c in CHECK_IDS], agents=["one", "two"])
    async with agent_of(roster, tmp_path, "one") as one:
        await one.refetch()
        share = one.owned_ids
        assert share == owned(CHECK_IDS, ["one", "two"], "one") != set(CHECK_IDS)
        roster.agents = ["one"]  # "two" stopped fetching
        with caplog.at_level(logging.INFO, logger="monitor.agent.runner"):
            await one.refetch()
        assert one.owned_ids == set(CHECK_IDS)
        assert "agent one runs 12 of the region's 12 checks (live agents: 1" in caplog.text
        roster.agents = ["one", "two"]  # back
        await one.refetch()
        assert one.owned_ids == share


@pytest.mark.parametrize(
    ("agents", "agent_id", "runs_all"),
    [
        ([], "one", True),  # the first fetch: the server had not seen it yet
        (["two"], "one", False),  # not listed yet, another is: it counts itself live
        (None, "one", True),  # a server that does not share checks
        (["two"], None, True),  # an agent without an id cannot take part: it runs all
    ],
)
async def test_who_counts_as_live(
    target: Target,
    tmp_path: Path,
    agents: list[str] | None,
    agent_id: str | None,
    runs_all: bool,
) -> None:
    roster = Roster([target.check(c) for c in CHECK_IDS], agents=agents)
    async with agent_of(roster, tmp_path, agent_id) as agent:
        await agent.refetch()
        assert (agent.owned_ids == set(CHECK_IDS)) is runs_all
        if not runs_all:
            assert agent.owned_ids == owned(CHECK_IDS, ["one", "two"], "one")


async def test_a_malformed_agent_list_is_retried_not_used(target: Target, tmp_path: Path) -> None:
    roster = Roster([target.check("c0")], agents=[1, 2])  # type: ignore[list-item]
    async with agent_of(roster, tmp_path, "one") as agent:
        assert not await agent.refetch()
        assert agent.owned_ids == frozenset()
