"""Admin API for alerts: what is firing, each region's state, and why the last result failed.

``GET /api/admin/alerts?status=firing|resolved|all&component=&source=&limit=`` lists alerts
newest first; a check's alert carries ``regions``: per region its alert state, streaks, last
run, and the condition outcomes of its newest raw result (``last_result`` is null once
retention has removed it, or before the batched writer has stored it).
``GET /api/admin/checks/{check_id}`` shows the same per-region block for any check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.admin.auth import AccessGuard
from monitor.admin.fields import Storable
from monitor.admin.reading import reading
from monitor.admin.responses import GUARDED, Detail, responses
from monitor.admin.tokens import VIEWER
from monitor.storage.alert_reads import (
    AlertRead,
    RegionRead,
    check_read,
    component_known,
    list_alerts,
    region_reads,
)
from monitor.storage.database import Database

MAX_LIMIT = 1000


class AlertFilters(BaseModel):
    """The query parameters of the alert list; any other parameter is refused."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["firing", "resolved", "all"] = "firing"
    component: Annotated[str, Storable] | None = Field(default=None, min_length=1, max_length=64)
    source: Literal["check", "alertmanager", "user_reports"] | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class ConditionOut(BaseModel):
    """One condition of a result: its text, whether it held, and the value it saw."""

    model_config = ConfigDict(from_attributes=True)

    condition: str
    ok: bool
    observed: Any = None


class ResultOut(BaseModel):
    """The newest stored raw result of one (check, region)."""

    model_config = ConfigDict(from_attributes=True)

    observed_at: datetime
    ok: bool
    duration_ms: float
    error: str | None
    conditions: list[ConditionOut]
    phases: dict[str, float] = Field(description="seconds per phase (dns, connect, tls, ...)")


class RegionOut(BaseModel):
    """One region's alert state of a check and its newest raw result."""

    model_config = ConfigDict(from_attributes=True)

    region: str
    state: str = Field(description="ok | pending | firing | recovering")
    consecutive_failures: int
    consecutive_successes: int
    last_run_at: datetime | None
    last_ok: bool | None
    last_error: str | None
    last_result: ResultOut | None = Field(description="null when no raw result is stored")


class AlertOut(BaseModel):
    """An alert of any source; ``regions`` is null unless a check raised it."""

    id: int
    fingerprint: str
    source: str
    component: str
    check_id: str | None
    status: str
    failure_status: str
    summary: str
    started_at: datetime
    resolved_at: datetime | None
    incident_id: int | None
    flapping: bool
    muted_reason: str | None
    labels: dict[str, Any] | None
    regions: list[RegionOut] | None


class AlertList(BaseModel):
    """The alerts matching the filters, newest first."""

    alerts: list[AlertOut]


class CheckOut(BaseModel):
    """A check and its state in each of its regions."""

    id: str
    component: str
    kind: str
    active: bool
    regions: list[RegionOut]


def build_alerts_router(database: Database, access: AccessGuard) -> APIRouter:
    """Return the alert and check read routes under ``/api/admin`` (role viewer)."""
    router = APIRouter(
        prefix="/api/admin", tags=["admin"], dependencies=[Depends(access.require(VIEWER))],
        responses=GUARDED,
    )  # fmt: skip

    @router.get("/alerts", summary="Alerts with per-region state and last condition outcomes")
    async def alerts(filters: Annotated[AlertFilters, Query()]) -> AlertList:
        """List alerts newest first; a check's alert shows each region's state and last result."""
        async with reading(database) as session:
            return await _alert_list(session, filters)

    @router.get(
        "/checks/{check_id}", summary="A check's state and last result per region",
        responses=responses(Detail, 404),
    )  # fmt: skip
    async def check(check_id: Annotated[str, Storable]) -> CheckOut:
        """Show one check's state and newest raw result in each of its regions."""
        async with reading(database) as session:
            found = await check_read(session=session, check_id=check_id)
            if found is None:
                raise HTTPException(404, f"unknown check {check_id!r}")
            by_check = await region_reads(session=session, check_ids=[check_id])
        return CheckOut(
            id=found.id,
            component=found.component_id,
            kind=found.kind,
            active=found.active,
            regions=_regions_out(by_check.get(check_id, [])),
        )

    return router


async def _alert_list(session: AsyncSession, filters: AlertFilters) -> AlertList:
    """Load the alerts matching ``filters`` and the regions of their checks (two queries)."""
    if filters.component is not None and not await component_known(
        session=session, component_id=filters.component
    ):
        raise _bad_query("component", f"unknown component {filters.component!r}")
    found = await list_alerts(
        session=session,
        status=None if filters.status == "all" else filters.status,
        component_id=filters.component,
        source=filters.source,
        limit=filters.limit,
    )
    check_ids = {a.check_id for a in found if a.check_id is not None}
    by_check = await region_reads(session=session, check_ids=check_ids)
    return AlertList(alerts=[_alert_out(a, by_check) for a in found])


def _bad_query(parameter: str, message: str) -> HTTPException:
    """Return a 422 shaped like FastAPI's own validation errors, naming ``parameter``."""
    detail = [{"type": "value_error", "loc": ["query", parameter], "msg": message}]
    return HTTPException(422, detail)


def _alert_out(alert: AlertRead, by_check: dict[str, list[RegionRead]]) -> AlertOut:
    """Return the API shape of ``alert``, with its check's regions when a check raised it."""
    regions = None if alert.check_id is None else _regions_out(by_check.get(alert.check_id, []))
    return AlertOut(
        id=alert.id,
        fingerprint=alert.fingerprint,
        source=alert.source,
        component=alert.component_id,
        check_id=alert.check_id,
        status=alert.status,
        failure_status=alert.failure_status,
        summary=alert.summary,
        started_at=alert.started_at,
        resolved_at=alert.resolved_at,
        incident_id=alert.incident_id,
        flapping=alert.flapping,
        muted_reason=alert.muted_reason,
        labels=alert.labels,
        regions=regions,
    )


def _regions_out(regions: list[RegionRead]) -> list[RegionOut]:
    """Return the API shape of a check's regions."""
    return [RegionOut.model_validate(region) for region in regions]
