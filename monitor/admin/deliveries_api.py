"""Admin API for the outbox: deliveries by status (dead letters first of all), and retry.

``GET /api/admin/deliveries?status=pending|sent|dead|dropped&channel=&after_id=&limit=`` lists
deliveries by id (page on with ``after_id``); ``GET /api/admin/deliveries/counts`` counts them
per channel and status; ``POST /api/admin/deliveries/{id}/retry`` puts a dead delivery back in
the queue with fresh attempts (409 if it is not dead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from monitor.admin.auth import AccessGuard
from monitor.admin.delivery_retry import RetryRefusedError, retry_dead
from monitor.admin.fields import Storable
from monitor.admin.reading import reading
from monitor.admin.responses import GUARDED, Detail, responses
from monitor.admin.tokens import RESPONDER, VIEWER
from monitor.clock import Clock
from monitor.storage.database import Database
from monitor.storage.deliveries import (
    DeliveryRow,
    delivery_counts,
    list_deliveries,
)

MAX_LIMIT = 1000
Status = Literal["pending", "sent", "dead", "dropped"]
# Ids are BIGINT: a larger number names no delivery (and must not reach the database driver).
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class DeliveryFilters(BaseModel):
    """The query parameters of the delivery list; any other parameter is refused."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    channel: Annotated[str, Storable] | None = Field(default=None, min_length=1, max_length=32)
    after_id: int = Field(default=0, ge=0, le=2**63 - 1)
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


class DeliveryList(BaseModel):
    """A page of deliveries; ``next_after_id`` continues the listing (null at the end)."""

    deliveries: list[DeliveryRow]
    next_after_id: int | None


class DeliveryCount(BaseModel):
    """How many deliveries one channel has in one status."""

    channel: str
    status: str
    count: int


def build_deliveries_router(database: Database, clock: Clock, access: AccessGuard) -> APIRouter:
    """Return the router for ``/api/admin/deliveries`` (reads: viewer; retry: responder)."""
    router = APIRouter(
        prefix="/api/admin", tags=["admin"], dependencies=[Depends(access.require(VIEWER))],
        responses=GUARDED,
    )  # fmt: skip

    @router.get("/deliveries", summary="Deliveries by status and channel (dead letters)")
    async def deliveries(filters: Annotated[DeliveryFilters, Query()]) -> DeliveryList:
        async with reading(database) as session:
            rows = await list_deliveries(
                session=session, status=filters.status, channel=filters.channel,
                after_id=filters.after_id, limit=filters.limit,
            )  # fmt: skip
        more = len(rows) == filters.limit
        return DeliveryList(deliveries=rows, next_after_id=rows[-1].id if more else None)

    @router.get("/deliveries/counts", summary="How many deliveries per channel and status")
    async def counts() -> list[DeliveryCount]:
        async with reading(database) as session:
            found = await delivery_counts(session=session)
        return [DeliveryCount(channel=c, status=s, count=n) for (c, s), n in sorted(found.items())]

    router.add_api_route(
        "/deliveries/{delivery_id}/retry", _retry(database, clock), methods=["POST"],
        summary="Send a dead delivery again (fresh attempts)", responses=responses(Detail, 404, 409),
        dependencies=[Depends(access.require(RESPONDER))],
    )  # fmt: skip
    return router


def _retry(database: Database, clock: Clock) -> Callable[..., object]:
    async def retry(delivery_id: DeliveryId) -> DeliveryRow:
        async with reading(database) as session:
            try:
                return await retry_dead(session, delivery_id, clock.now())
            except RetryRefusedError as refused:
                raise HTTPException(refused.status, refused.message) from None

    return retry
