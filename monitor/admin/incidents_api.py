"""Admin API for incidents and component overrides (JSON under ``/api/admin``, bearer token).

List and read incidents; open one by hand with the seed's report fields; post updates; change
severity (either way, with a reason) or cause; acknowledge and unacknowledge; resolve; override
a component's public status (a deliberate trading halt). Unknown ids are 404, transitions that
cannot happen (resolve a resolved incident) 409 with the reason, bad fields 422.
"""

# No ``from __future__ import annotations``: the routes' parameter types are built inside
# build_incidents_router (the guard is known only then) and FastAPI must see them evaluated.
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from monitor.admin.auth import AccessGuard
from monitor.admin.fields import Storable, StorableTime
from monitor.admin.incident_out import IncidentDetail, IncidentList
from monitor.admin.responses import GUARDED, UNREADABLE, Done, ErrorOut, invalid, responses
from monitor.admin.tokens import RESPONDER, VIEWER
from monitor.clock import Clock
from monitor.domain import ComponentStatus, IncidentStatus, Severity, parse_cause
from monitor.responder import ActionRefusedError, ManualIncident, Responder
from monitor.storage.database import Database
from monitor.storage.incident_reads import incident_detail, list_incidents

Text = Annotated[str, Field(min_length=1, max_length=5000), Storable]
# Beyond a 64-bit id the database driver itself fails: refuse it as a bad path instead.
IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the incident's number")]
FUTURE_SKEW = timedelta(minutes=5)
Short = Annotated[str, Field(min_length=1, max_length=300), Storable]
UNKNOWN = responses(ErrorOut, 404)
REFUSED = responses(ErrorOut, 404, 409)


def _known_cause(text: str) -> str:
    parse_cause(text)  # a ValueError naming the unknown part: a 422 at the field
    return text


Cause = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_known_cause)]


class Body(BaseModel):
    """Base for request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class NewIncidentIn(Body):
    """A manual incident: what is wrong, when it started, the impact scope, how to reproduce, who."""

    name_ja: Short
    name_en: Short
    description: Text = Field(description="what is wrong")
    started_at: StorableTime = Field(description="when it started")
    components: dict[str, ComponentStatus] = Field(
        default_factory=dict, description="affected components and the status to show"
    )
    impact_scope: Text | None = None
    reproduction: Text | None = Field(default=None, description="how to reproduce")
    reporter: Short | None = None
    contact: Short | None = None
    cause: Cause = "system"
    severity: Severity | None = Field(default=None, description="omit to classify by the policy")
    body_ja: Text | None = None
    body_en: Text | None = None


class UpdateIn(Body):
    """A public update, in both languages, optionally with component statuses to show."""

    status: IncidentStatus
    body_ja: Text
    body_en: Text
    components: dict[str, ComponentStatus] | None = None


class SeverityIn(Body):
    """A responder's severity decision and why."""

    severity: Severity
    reason: Text


class CauseIn(Body):
    """The cause category, e.g. "system/database" or "security/ddos"."""

    cause: Cause


class ResolveIn(Body):
    """An optional closing update; ``force`` resolves even while its alerts still fire."""

    body_ja: Text | None = None
    body_en: Text | None = None
    force: bool = False


class OverrideIn(Body):
    """Show this status for a component whatever monitoring sees, with a public message."""

    status: ComponentStatus
    reason: Text
    message_ja: Text | None = None
    message_en: Text | None = None


class ClearOverrideIn(Body):
    """Why the override ends."""

    reason: Text


Action = Callable[[], Awaitable[Any]]


def build_incidents_router(
    responder: Responder, database: Database, clock: Clock, access: AccessGuard
) -> APIRouter:
    """Return the incident and override routes (reads: viewer; changes: responder)."""
    router = APIRouter(prefix="/api/admin", tags=["admin: incidents"], responses=GUARDED)
    viewer = Annotated[str, Depends(access.require(VIEWER))]
    actor = Annotated[str, Depends(access.require(RESPONDER))]

    @router.get("/incidents", summary="List incidents, newest first", response_model=IncidentList)
    async def incidents(
        _: viewer,
        state: Literal["open", "resolved", "all"] = "open",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> JSONResponse:
        async with database.transaction() as session:
            rows = await list_incidents(session=session, state=state, limit=limit)
        return JSONResponse(jsonable_encoder({"incidents": rows}))

    @router.get(
        "/incidents/{incident_id}", summary="One incident with components, updates, alerts",
        response_model=IncidentDetail, responses=UNKNOWN,
    )  # fmt: skip
    async def incident(incident_id: IncidentId, _: viewer) -> JSONResponse:
        return await _detail(database, incident_id)

    @router.post(
        "/incidents", status_code=201, summary="Open an incident by hand",
        response_model=IncidentDetail, responses=UNREADABLE,
    )  # fmt: skip
    async def open_incident(body: NewIncidentIn, who: actor) -> JSONResponse:
        if body.started_at > clock.now() + FUTURE_SKEW:
            raise invalid("body", "started_at", "an incident cannot start in the future")
        report = _manual(body)
        return await _act(database, lambda: responder.open(report, clock.now(), actor=who), 201)

    _lifecycle_routes(router, responder, database, clock, actor)
    _override_routes(router, responder, clock, actor)
    return router


_STEP: dict[str, Any] = {"response_model": IncidentDetail, "responses": REFUSED}
_CHANGE: dict[str, Any] = {"response_model": IncidentDetail, "responses": REFUSED | UNREADABLE}
_IN_PATH = ("path", "component_id")  # where an override names an unknown component
_OVERRIDE: dict[str, Any] = {
    "response_model": Done, "responses": responses(ErrorOut, 409) | UNREADABLE,
}  # fmt: skip


def _lifecycle_routes(
    router: APIRouter, responder: Responder, database: Database, clock: Clock, actor: Any
) -> None:
    @router.post("/incidents/{incident_id}/updates", summary="Post a public update", **_CHANGE)
    async def post_update(incident_id: IncidentId, body: UpdateIn, who: actor) -> JSONResponse:
        text = {"ja": body.body_ja, "en": body.body_en}
        return await _act(database, lambda: responder.post(
            incident_id, body.status, text, clock.now(), actor=who, components=body.components,
        ), incident_id=incident_id)  # fmt: skip

    @router.post(
        "/incidents/{incident_id}/severity", summary="Change severity (with a reason)", **_CHANGE
    )
    async def severity(incident_id: IncidentId, body: SeverityIn, who: actor) -> JSONResponse:
        return await _act(database, lambda: responder.change_severity(
            incident_id, body.severity, body.reason, clock.now(), actor=who
        ), incident_id=incident_id)  # fmt: skip

    @router.post("/incidents/{incident_id}/cause", summary="Set the cause category", **_CHANGE)
    async def cause(incident_id: IncidentId, body: CauseIn, who: actor) -> JSONResponse:
        return await _act(database, lambda: responder.set_cause(
            incident_id, body.cause, clock.now(), actor=who
        ), incident_id=incident_id)  # fmt: skip

    @router.post("/incidents/{incident_id}/ack", summary="Acknowledge (stops escalation)", **_STEP)
    async def ack(incident_id: IncidentId, who: actor) -> JSONResponse:
        return await _act(database, lambda: responder.acknowledge(
            incident_id, clock.now(), actor=who
        ), incident_id=incident_id)  # fmt: skip

    @router.post("/incidents/{incident_id}/unack", summary="Take back an acknowledgement", **_STEP)
    async def unack(incident_id: IncidentId, who: actor) -> JSONResponse:
        return await _act(database, lambda: responder.unacknowledge(
            incident_id, clock.now(), actor=who
        ), incident_id=incident_id)  # fmt: skip

    @router.post("/incidents/{incident_id}/resolve", summary="Resolve", **_CHANGE)
    async def resolve(
        incident_id: IncidentId, who: actor, body: ResolveIn | None = None
    ) -> JSONResponse:
        text = _pair(body.body_ja, body.body_en) if body else None
        force = body.force if body else False
        return await _act(database, lambda: responder.resolve(
            incident_id, clock.now(), actor=who, text=text, force=force
        ), incident_id=incident_id)  # fmt: skip


def _override_routes(router: APIRouter, responder: Responder, clock: Clock, actor: Any) -> None:
    @router.put(
        "/components/{component_id}/override", summary="Override a component's status", **_OVERRIDE
    )
    async def set_override(component_id: str, body: OverrideIn, who: actor) -> JSONResponse:
        message = _pair(body.message_ja, body.message_en)
        return await _act(None, lambda: responder.override(
            component_id, body.status, clock.now(), actor=who, reason=body.reason, message=message
        ), unknown=_IN_PATH)  # fmt: skip

    @router.delete(
        "/components/{component_id}/override", summary="End a component override", **_OVERRIDE
    )
    async def clear_override(component_id: str, body: ClearOverrideIn, who: actor) -> JSONResponse:
        return await _act(None, lambda: responder.override(
            component_id, None, clock.now(), actor=who, reason=body.reason
        ), unknown=_IN_PATH)  # fmt: skip


async def _act(
    database: Database | None,
    action: Action,
    status: int = 200,
    *,
    incident_id: int | None = None,
    unknown: tuple[str, str] = ("body", "components"),
) -> JSONResponse:
    """Run an action; answer with the incident as it is now, or the refusal.

    The responder refuses unknown component ids with a 422: it names the field ``unknown``.
    """
    try:
        result = await action()
    except ActionRefusedError as refused:
        if refused.status == 422:
            raise invalid(*unknown, refused.message) from None
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    if database is None:
        return JSONResponse({"ok": True}, status_code=status)
    return await _detail(database, incident_id if incident_id is not None else int(result), status)


async def _detail(database: Database, incident_id: IncidentId, status: int = 200) -> JSONResponse:
    async with database.transaction() as session:
        detail = await incident_detail(session=session, incident_id=incident_id)
    if detail is None:
        return JSONResponse({"error": f"no incident #{incident_id}"}, status_code=404)
    return JSONResponse(jsonable_encoder(detail), status_code=status)


def _pair(ja: str | None, en: str | None) -> dict[str, str] | None:
    if ja is None and en is None:
        return None
    return {"ja": ja or en or "", "en": en or ja or ""}


def _manual(body: NewIncidentIn) -> ManualIncident:
    return ManualIncident(
        name_ja=body.name_ja,
        name_en=body.name_en,
        description=body.description,
        started_at=body.started_at,
        components=dict(body.components),
        impact_scope=body.impact_scope,
        reproduction=body.reproduction,
        reporter=body.reporter,
        contact=body.contact,
        cause=body.cause,
        severity=body.severity,
        body=_pair(body.body_ja, body.body_en) or {},
    )
