"""What the agents' routes answer, as OpenAPI documents it (``monitor.agent_api``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from monitor.admin.responses import ErrorOut, Responses, responses

AGENT_PARAMETER = (
    "the calling agent's id (1 to 64 printable ASCII characters, no spaces): the fetch is also "
    "its heartbeat, so it is listed among the region's live agents; an agent that sends none "
    "is not listed, and runs all the region's checks"
)


class AssignedChecks(BaseModel):
    """The checks a region runs, and the live agents that share them; ``version`` is the checks'.

    Each agent runs the checks it owns by rendezvous hashing over ``agents``: for each check,
    the agent with the highest BLAKE2b-64 of ``agent_id + NUL + check_id`` (big-endian) runs it
    (on a tie, the larger id). An agent missing from the list counts itself in.
    """

    version: str = Field(description="changes whenever the checks do (not when the agents do)")
    checks: list[dict[str, Any]] = Field(description="check definitions, as in the config")
    agents: list[str] | None = Field(
        default=None,
        description=(
            "the region's agents seen within the server's liveness window, sorted, the caller "
            "included; absent from a server that does not share checks (each agent runs all)"
        ),
    )


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
