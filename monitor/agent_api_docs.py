"""What the agents' routes answer, as OpenAPI documents it (``monitor.agent_api``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from monitor.admin.responses import ErrorOut, Responses, responses


class AssignedChecks(BaseModel):
    """The checks a region runs; ``version`` changes whenever they do."""

    version: str
    checks: list[dict[str, Any]] = Field(description="check definitions, as in the config")


class Accepted(BaseModel):
    """How many results a batch held, and how many of them were already stored."""

    accepted: int
    duplicates: int


class FieldProblem(BaseModel):
    """One field of a batch that cannot be used."""

    loc: list[str | int]
    msg: str


class BatchRefused(ErrorOut):
    """Why a batch can never be accepted; ``detail`` names each bad field."""

    detail: list[FieldProblem] | None = None


_TOKEN = responses(ErrorOut, 401, 503)
CHECKS_ANSWERS: Responses = _TOKEN
RESULTS_ANSWERS: Responses = {**_TOKEN, **responses(ErrorOut, 413), **responses(BatchRefused, 422)}
