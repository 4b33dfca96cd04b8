"""Admin API for postmortems (JSON under ``/api/admin``, bearer token).

Read an incident's postmortem (viewer); write it in Markdown and publish it (responder). Unknown
incidents are 404; publishing before the incident is resolved, or twice, is 409 with the reason;
empty, oversized or unstorable Markdown is 422 naming the field.
"""

# No ``from __future__ import annotations``: the routes' parameter types are built inside
# build_postmortems_router (the guard is known only then) and FastAPI must see them evaluated.
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.admin.auth import AccessGuard
from monitor.admin.responses import GUARDED, UNREADABLE, ErrorOut, responses
from monitor.admin.tokens import RESPONDER, VIEWER
from monitor.postmortems.service import MAX_MARKDOWN, PostmortemService, markdown_problem
from monitor.responder import ActionRefusedError
from monitor.storage.postmortems import PostmortemRow

# Beyond a 64-bit id the database driver itself fails: refuse it as a bad path instead.
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the incident's number")]


class PostmortemIn(BaseModel):
    """The postmortem's text in Markdown (CommonMark with tables; raw HTML is shown as text)."""

    model_config = ConfigDict(extra="forbid")

    markdown: str = Field(min_length=1, max_length=MAX_MARKDOWN)

    @field_validator("markdown")
    @classmethod
    def _storable(cls, value: str) -> str:
        problem = markdown_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class PostmortemOut(BaseModel):
    """An incident's postmortem: its text, who saved it last, and who published it when."""

    incident_id: int
    markdown: str
    updated_at: datetime
    updated_by: str
    published_at: datetime | None
    published_by: str | None


UNKNOWN = responses(ErrorOut, 404)  # no such incident, or no postmortem yet
REFUSED = responses(ErrorOut, 404, 409)  # not resolved yet, nothing saved, already published
PATH = "/incidents/{incident_id}/postmortem"
Action = Callable[[], Awaitable[PostmortemRow | None]]
Answer = PostmortemOut | JSONResponse


def build_postmortems_router(postmortems: PostmortemService, access: AccessGuard) -> APIRouter:
    """Return the postmortem routes (read: viewer; write and publish: responder)."""
    router = APIRouter(prefix="/api/admin", tags=["admin: postmortems"], responses=GUARDED)
    viewer = Annotated[str, Depends(access.require(VIEWER))]
    actor = Annotated[str, Depends(access.require(RESPONDER))]

    @router.get(
        PATH, response_model=PostmortemOut, responses=UNKNOWN, summary="An incident's postmortem"
    )
    async def read(incident_id: IncidentId, _: viewer) -> Answer:
        return await _answer(incident_id, lambda: postmortems.get(incident_id))

    @router.put(
        PATH, response_model=PostmortemOut, responses=UNKNOWN | UNREADABLE,
        summary="Write the postmortem (Markdown); a published one changes on the page at once",
    )  # fmt: skip
    async def write(incident_id: IncidentId, body: PostmortemIn, who: actor) -> Answer:
        return await _answer(
            incident_id, lambda: postmortems.save_draft(incident_id, body.markdown, who)
        )

    @router.post(
        f"{PATH}/publish",
        response_model=PostmortemOut,
        responses=REFUSED,
        summary="Publish the postmortem on the public page (once the incident is resolved)",
    )
    async def publish(incident_id: IncidentId, who: actor) -> Answer:
        return await _answer(incident_id, lambda: postmortems.publish(incident_id, who))

    return router


async def _answer(incident_id: int, action: Action) -> Answer:
    """Run ``action``; answer with the postmortem, or with the refusal and its status."""
    try:
        row = await action()
    except ActionRefusedError as refused:
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    if row is None:
        return JSONResponse(
            {"error": f"incident #{incident_id} has no postmortem yet"}, status_code=404
        )
    return PostmortemOut(
        incident_id=row.incident_id, markdown=row.markdown, updated_at=row.updated_at,
        updated_by=row.updated_by, published_at=row.published_at, published_by=row.published_by,
    )  # fmt: skip
