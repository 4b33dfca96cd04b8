"""The server side of regional agents: hand each region its checks, take their results in batches.

``GET /api/agent/checks?region=R&agent=ID`` and ``POST /api/agent/results``, bearer-authenticated
with EXWATCH_AGENT_TOKEN. A batch that can never be accepted (unknown check, wrong region, bad
shape) is a 4xx naming why, so the agent drops it instead of retrying forever.

A fetch of the checks is also the agent's heartbeat: the answer lists the region's live agents,
which split the checks between them by rendezvous hashing (``monitor.agent.rendezvous``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.admin.responses import request_body
from monitor.agent.identity import AGENT_ID_PATTERN, MAX_AGENT_ID
from monitor.agent_api_docs import (
    AGENT_PARAMETER,
    CHECKS_ANSWERS,
    RESULTS_ANSWERS,
    Accepted,
    AssignedChecks,
)
from monitor.clock import Clock
from monitor.config import CheckConfig
from monitor.config.models import LOCAL_REGION
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.agents import forget_agents, live_agents, record_agent
from monitor.storage.database import Database
from probes import ConditionOutcome, ProbeResult

Ingest = Callable[[CheckConfig, ProbeResult, str, datetime], Awaitable[None]]
Stored = Callable[[str, list[tuple[str, datetime]]], Awaitable[set[tuple[str, datetime]]]]
# Given a region and the calling agent's id (None from an agent too old to send one): note the
# agent as live, and return the region's live agents, sorted.
Roster = Callable[[str, str | None], Awaitable[list[str]]]
MAX_BATCH = 5000
# An agent counts as live this long after its last fetch: three of its default refetch periods.
AGENT_LIVENESS_S = 90.0
# An agent gone this many liveness windows is deleted (any region's): the table stays small.
_FORGET_AFTER_WINDOWS = 10


PHASES = frozenset({"dns", "connect", "tls", "first_byte", "total"})
MAX_BODY_BYTES = 16 * 1024 * 1024


class _Strict(BaseModel):
    # NaN or infinity from an agent would poison sketches, JSON columns and metrics.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class AgentOutcome(_Strict):
    """One condition's outcome as an agent reports it."""

    condition: str = Field(max_length=500)
    ok: bool
    observed: Any = None


class AgentResult(_Strict):
    """One probe result as an agent reports it."""

    check_id: str = Field(max_length=64)
    observed_at: AwareDatetime
    ok: bool
    duration_s: float = Field(ge=0, le=3600)
    error: str | None = Field(default=None, max_length=2000)
    observed: dict[str, Any] = Field(default_factory=dict, max_length=50)
    conditions: list[AgentOutcome] = Field(default_factory=list, max_length=50)
    phases: dict[str, float] = Field(default_factory=dict, max_length=len(PHASES))

    @field_validator("phases")
    @classmethod
    def _known_phases(cls, phases: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(phases) - PHASES)
        if unknown:  # phase names become metric labels: only the known few
            raise ValueError(f"unknown phase {unknown[0]!r} (known: {', '.join(sorted(PHASES))})")
        return phases

    def to_probe_result(self) -> ProbeResult:
        """Return the result as the engine takes it."""
        outcomes = tuple(ConditionOutcome(c.condition, c.ok, c.observed) for c in self.conditions)
        error = self.error.replace("\0", "") if self.error else None  # PostgreSQL text holds no NUL
        return ProbeResult(self.ok, self.duration_s, self.observed, outcomes, error, self.phases)


class AgentBatch(_Strict):
    """A batch of results from one region."""

    region: str = Field(min_length=1, max_length=64)
    results: list[AgentResult] = Field(max_length=MAX_BATCH)


class RecentKeys:
    """The newest ``limit`` keys seen; ``add`` says whether a key is new."""

    def __init__(self, limit: int = 200_000) -> None:
        self._keys: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._limit = limit

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: tuple[str, str, str]) -> bool:
        """Remember ``key``; False if it was already there."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._limit:
            self._keys.popitem(last=False)
        return True


def database_roster(database: Database, clock: Clock, window: float = AGENT_LIVENESS_S) -> Roster:
    """Return the roster kept in ``database``, shared by every api replica; live: ``window`` s."""
    if window <= 0:
        raise ValueError("the agents' liveness window must be positive")

    async def roster(region: str, agent_id: str | None) -> list[str]:
        now = clock.now()
        async with database.transaction() as session:
            if agent_id is not None:
                await record_agent(session=session, region=region, agent_id=agent_id, at=now)
                gone = now - timedelta(seconds=window * _FORGET_AFTER_WINDOWS)
                await forget_agents(session=session, before=gone)
            since = now - timedelta(seconds=window)
            return await live_agents(session=session, region=region, since=since)

    return roster


def build_agent_router(
    config: ConfigSource,
    token: str | None,
    ingest: Ingest,
    stored: Stored,
    *,
    roster: Roster | None = None,
) -> APIRouter:
    """Return the agent routes; without a token configured they answer 503.

    ``stored`` tells which results of a batch are already in the database: the in-memory set
    of recent keys does not survive a restart, and a batch resent across one must count once.
    ``roster`` keeps the live agents of each region; without it the answer lists none and each
    agent runs all its region's checks (as before agents shared them).
    """
    router = APIRouter(prefix="/api/agent")
    live = live_config(config)  # agents get the checks in force: a reload reaches them too
    current = live.derived(lambda c: {check.id: check for check in c.checks})
    seen = RecentKeys()

    @router.get(
        "/checks", summary="The checks a region's agents run",
        response_model=AssignedChecks, responses=CHECKS_ANSWERS,
    )  # fmt: skip
    async def region_checks(
        region: str = Query(min_length=1, max_length=64),
        agent: str | None = Query(None, max_length=MAX_AGENT_ID, pattern=AGENT_ID_PATTERN,
                                  description=AGENT_PARAMETER),
        authorization: str | None = Header(None),
    ) -> JSONResponse:  # fmt: skip
        if (problem := _refusal(token, authorization)) is not None:
            return problem
        assigned = [
            c.model_dump(mode="json")
            for c in live.current.checks
            if region in c.regions and region != LOCAL_REGION
        ]
        version = hashlib.sha256(json.dumps(assigned, sort_keys=True).encode()).hexdigest()[:16]
        answer: dict[str, Any] = {"version": version, "checks": assigned}
        if roster is not None:
            # A region with no checks (a typo, a retired region) has nothing to share: it is
            # not recorded, so strangers' region names never reach the table.
            answer["agents"] = await roster(region, agent) if assigned else _only(agent)
        return JSONResponse(answer)

    @router.post(
        "/results", summary="A batch of results from a region's agent",
        response_model=Accepted, responses=RESULTS_ANSWERS, openapi_extra=request_body(AgentBatch),
    )  # fmt: skip
    async def results(request: Request) -> JSONResponse:
        # The token is checked before the body is read, so strangers cannot make us parse it.
        if (problem := _refusal(token, request.headers.get("authorization"))) is not None:
            return problem
        batch = await _read_batch(request)
        if isinstance(batch, JSONResponse):
            return batch
        checks = current()
        if (problem := _batch_problem(checks, batch)) is not None:
            return problem
        items = [(item, item.observed_at.astimezone(UTC)) for item in batch.results]
        already = await stored(batch.region, [(item.check_id, when) for item, when in items])
        duplicates = 0
        for item, when in items:
            # An agent resends a batch whose reply it lost; a result must count once.
            key = (batch.region, item.check_id, when.isoformat())
            if key in seen or (item.check_id, when) in already:
                duplicates += 1
                continue
            await ingest(checks[item.check_id], item.to_probe_result(), batch.region, when)
            seen.add(key)
        return JSONResponse({"accepted": len(batch.results), "duplicates": duplicates})

    return router


def _only(agent: str | None) -> list[str]:
    return [] if agent is None else [agent]


async def _read_batch(request: Request) -> AgentBatch | JSONResponse:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return JSONResponse({"error": f"a batch is at most {MAX_BODY_BYTES} bytes"}, 413)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"a batch is at most {MAX_BODY_BYTES} bytes"}, 413)
    try:
        return AgentBatch.model_validate_json(body)
    except ValidationError as error:
        problems = [
            {"loc": list(e["loc"]), "msg": e["msg"]}
            for e in error.errors(include_input=False, include_url=False)
        ]
        return JSONResponse({"error": "invalid batch", "detail": problems[:20]}, 422)


def _refusal(token: str | None, authorization: str | None) -> JSONResponse | None:
    if not token:
        return JSONResponse(
            {"error": "agents are not enabled (EXWATCH_AGENT_TOKEN is not set)"}, 503
        )
    presented = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), token.encode()):
        return JSONResponse({"error": "missing or wrong bearer token"}, 401)
    return None


def _batch_problem(checks: dict[str, CheckConfig], batch: AgentBatch) -> JSONResponse | None:
    # Refuse the whole batch before applying any of it, so a retry cannot double-count.
    for index, item in enumerate(batch.results):
        check = checks.get(item.check_id)
        if check is None or batch.region not in check.regions or batch.region == LOCAL_REGION:
            why = "unknown check" if check is None else f"not assigned to region {batch.region!r}"
            return JSONResponse(
                {"error": f"results[{index}].check_id: {item.check_id!r}: {why}"}, 422
            )
    return None
