"""The server side of regional agents: hand each region its checks, take their results in batches.

``GET /api/agent/checks?region=R`` and ``POST /api/agent/results``, bearer-authenticated with
EXWATCH_AGENT_TOKEN. A batch that can never be accepted (unknown check, wrong region, bad
shape) is a 4xx naming why, so the agent drops it instead of retrying forever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from monitor.config import CheckConfig, Config
from monitor.config.models import LOCAL_REGION
from probes import ConditionOutcome, ProbeResult

Ingest = Callable[[CheckConfig, ProbeResult, str, datetime], Awaitable[None]]
MAX_BATCH = 5000


class AgentOutcome(BaseModel):
    """One condition's outcome as an agent reports it."""

    condition: str
    ok: bool
    observed: Any = None


class AgentResult(BaseModel):
    """One probe result as an agent reports it."""

    model_config = ConfigDict(extra="ignore")

    check_id: str
    observed_at: datetime
    ok: bool
    duration_s: float = Field(ge=0)
    error: str | None = None
    observed: dict[str, Any] = Field(default_factory=dict)
    conditions: list[AgentOutcome] = Field(default_factory=list)
    phases: dict[str, float] = Field(default_factory=dict)

    def to_probe_result(self) -> ProbeResult:
        """Return the result as the engine takes it."""
        outcomes = tuple(ConditionOutcome(c.condition, c.ok, c.observed) for c in self.conditions)
        return ProbeResult(
            self.ok, self.duration_s, self.observed, outcomes, self.error, self.phases
        )


class AgentBatch(BaseModel):
    """A batch of results from one region."""

    region: str
    results: list[AgentResult] = Field(max_length=MAX_BATCH)


class RecentKeys:
    """The newest ``limit`` keys seen; ``add`` says whether a key is new."""

    def __init__(self, limit: int = 200_000) -> None:
        self._keys: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._limit = limit

    def add(self, key: tuple[str, str, str]) -> bool:
        """Remember ``key``; False if it was already there."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._limit:
            self._keys.popitem(last=False)
        return True


def build_agent_router(config: Config, token: str | None, ingest: Ingest) -> APIRouter:
    """Return the agent routes; without a token configured they answer 503."""
    router = APIRouter(prefix="/api/agent")
    checks = {c.id: c for c in config.checks}
    seen = RecentKeys()

    @router.get("/checks", summary="The checks a region's agents run")
    async def region_checks(
        region: str = Query(min_length=1), authorization: str | None = Header(None)
    ) -> JSONResponse:
        if (problem := _refusal(token, authorization)) is not None:
            return problem
        assigned = [
            c.model_dump(mode="json")
            for c in config.checks
            if region in c.regions and region != LOCAL_REGION
        ]
        version = hashlib.sha256(json.dumps(assigned, sort_keys=True).encode()).hexdigest()[:16]
        return JSONResponse({"version": version, "checks": assigned})

    @router.post("/results", summary="A batch of results from a region's agent")
    async def results(batch: AgentBatch, authorization: str | None = Header(None)) -> JSONResponse:
        if (problem := _refusal(token, authorization) or _batch_problem(checks, batch)) is not None:
            return problem
        accepted = 0
        for item in batch.results:
            # An agent resends a batch whose reply it lost; a result must count once.
            if seen.add((batch.region, item.check_id, item.observed_at.isoformat())):
                await ingest(
                    checks[item.check_id], item.to_probe_result(), batch.region, item.observed_at
                )
                accepted += 1
        return JSONResponse(
            {"accepted": len(batch.results), "duplicates": len(batch.results) - accepted}
        )

    return router


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
