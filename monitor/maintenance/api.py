"""The admin API for maintenance under ``/api/admin/maintenance`` (JSON, bearer token).

Unknown ids answer 404, a change the window's state does not allow 409 with the reason, and a
field that cannot be used 422 naming it (FastAPI's shape: ``detail[].loc`` ends with the field).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from monitor.admin.auth import AccessGuard, granted
from monitor.admin.responses import GUARDED, UNREADABLE, Detail, responses
from monitor.admin.tokens import RESPONDER, VIEWER
from monitor.maintenance.errors import (
    ConflictError,
    InvalidFieldError,
    MaintenanceError,
    NotFoundError,
)
from monitor.maintenance.models import (
    CancelIn,
    ExtendIn,
    MaintenanceIn,
    MaintenanceOut,
    MaintenancePatch,
    SeriesIn,
    SeriesOut,
    Status,
)
from monitor.maintenance.service import MaintenanceService

PREFIX = "/api/admin/maintenance"


def _caller(request: Request) -> str:
    """Who is asking, as the router's token check found (the timeline's actor); a responder+."""
    return granted(request, RESPONDER)


Actor = Annotated[str, Depends(_caller)]
_BIGGEST_ID = 2**63 - 1  # ids are BIGINT: larger numbers are no id (and not a database error)
WindowId = Annotated[int, Path(ge=1, le=_BIGGEST_ID)]
SeriesId = Annotated[int, Path(ge=1, le=_BIGGEST_ID)]
SeriesFilter = Annotated[int | None, Query(ge=1, le=_BIGGEST_ID)]
UNKNOWN = responses(Detail, 404)
REFUSED = responses(Detail, 404, 409)
CHANGE = REFUSED | UNREADABLE


def build_maintenance_router(service: MaintenanceService, access: AccessGuard) -> APIRouter:
    """Return the maintenance routes: reads need a viewer, changes (naming an actor) a responder."""
    router = APIRouter(
        prefix=PREFIX, tags=["maintenance"], dependencies=[Depends(access.require(VIEWER))],
        responses=GUARDED,
    )  # fmt: skip
    _series_routes(router, service)  # first: "/series" must not be read as a window id
    _window_routes(router, service)
    _transition_routes(router, service)
    return router


def _series_routes(router: APIRouter, service: MaintenanceService) -> None:
    @router.post("/series", status_code=201, responses=UNREADABLE)
    async def create_series(body: SeriesIn, actor: Actor) -> SeriesOut:
        with _http_errors():
            new = body.to_new(service.site_time_zone)
            return SeriesOut.of(await service.create_series(new, actor=actor))

    @router.get("/series")
    async def list_series() -> list[SeriesOut]:
        return [SeriesOut.of(s) for s in await service.list_series()]

    @router.get("/series/{series_id}", responses=UNKNOWN)
    async def get_series(series_id: SeriesId) -> SeriesOut:
        with _http_errors():
            return SeriesOut.of(await service.get_series(series_id))

    @router.delete("/series/{series_id}", responses=REFUSED)
    async def deactivate_series(series_id: SeriesId, actor: Actor) -> SeriesOut:
        with _http_errors():
            return SeriesOut.of(await service.deactivate_series(series_id, actor=actor))


def _window_routes(router: APIRouter, service: MaintenanceService) -> None:
    @router.post("", status_code=201, responses=UNREADABLE)
    async def schedule(body: MaintenanceIn, actor: Actor) -> MaintenanceOut:
        with _http_errors():
            return MaintenanceOut.of(await service.schedule(body.to_new(), actor=actor))

    @router.get("")
    async def list_windows(
        status: Status | None = None, series_id: SeriesFilter = None
    ) -> list[MaintenanceOut]:
        found = await service.list_windows(status=status, series_id=series_id)
        return [MaintenanceOut.of(w) for w in found]

    @router.get("/{maintenance_id}", responses=UNKNOWN)
    async def get_window(maintenance_id: WindowId) -> MaintenanceOut:
        with _http_errors():
            return MaintenanceOut.of(await service.get(maintenance_id))

    @router.patch("/{maintenance_id}", responses=CHANGE)
    async def edit(
        maintenance_id: WindowId, body: MaintenancePatch, actor: Actor
    ) -> MaintenanceOut:
        changes = body.to_changes()
        if changes.is_empty():
            raise _invalid(None, "give at least one field to change")
        with _http_errors():
            return MaintenanceOut.of(await service.edit(maintenance_id, changes, actor=actor))


def _transition_routes(router: APIRouter, service: MaintenanceService) -> None:
    @router.post("/{maintenance_id}/start", responses=REFUSED)
    async def start(maintenance_id: WindowId, actor: Actor) -> MaintenanceOut:
        with _http_errors():
            return MaintenanceOut.of(await service.start(maintenance_id, actor=actor))

    @router.post("/{maintenance_id}/complete", responses=REFUSED)
    async def complete(maintenance_id: WindowId, actor: Actor) -> MaintenanceOut:
        with _http_errors():
            return MaintenanceOut.of(await service.complete(maintenance_id, actor=actor))

    @router.post("/{maintenance_id}/extend", responses=CHANGE)
    async def extend(maintenance_id: WindowId, body: ExtendIn, actor: Actor) -> MaintenanceOut:
        with _http_errors():
            window = await service.extend(
                maintenance_id, scheduled_end=body.scheduled_end, actor=actor
            )
            return MaintenanceOut.of(window)

    @router.post("/{maintenance_id}/cancel", responses=CHANGE)
    async def cancel(
        maintenance_id: WindowId, actor: Actor, body: CancelIn | None = None
    ) -> MaintenanceOut:
        reason = None if body is None else body.reason
        with _http_errors():
            window = await service.cancel(maintenance_id, actor=actor, reason=reason)
            return MaintenanceOut.of(window)


@contextmanager
def _http_errors() -> Iterator[None]:
    """Turn the service's refusals into 404, 409 and 422 answers."""
    try:
        yield
    except NotFoundError as error:
        raise HTTPException(404, error.message) from None
    except ConflictError as error:
        raise HTTPException(409, error.message) from None
    except InvalidFieldError as error:
        raise _invalid(error.field, error.message) from None
    except MaintenanceError as error:  # a refusal of a kind added later: still no traceback
        raise HTTPException(400, error.message) from None


def _invalid(field: str | None, message: str) -> HTTPException:
    """A 422 in FastAPI's validation shape, naming ``field`` of the body (None: the body)."""
    loc = ["body"] if field is None else ["body", field]
    return HTTPException(422, [{"loc": loc, "msg": message, "type": "value_error"}])
