"""``POST /api/admin/subscribers/export`` and ``/erase`` (role admin): a subscriber's data by address.

The address travels in the JSON body, not in the URL, so it stays out of access logs. An
address that is not one is 422 naming the field; an address nobody subscribed with is 404.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from monitor.admin.auth import AccessGuard
from monitor.admin.responses import GUARDED, UNREADABLE
from monitor.admin.tokens import ADMIN
from monitor.subscriptions.data_requests import DataRequests
from monitor.subscriptions.normalisation import MAX_ADDRESS_LENGTH, AddressError


class AddressIn(BaseModel):
    """The subscriber's email address, as they give it (it is normalised before the search)."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=1, max_length=MAX_ADDRESS_LENGTH)


class PendingChangeOut(BaseModel):
    """A change of language or components waiting for its confirmation."""

    language: str
    components: list[str] | Literal["all"]


class SubscriberExportOut(BaseModel):
    """Everything stored about one subscriber (times in ISO 8601, UTC)."""

    id: int
    address: str
    state: str
    language: str | None
    components: list[str] | Literal["all"]
    pending_change: PendingChangeOut | None
    created_at: str | None
    updated_at: str | None
    requested_at: str | None
    confirmed_at: str | None
    unsubscribed_at: str | None
    recent_requests: list[str]


class ErasedOut(BaseModel):
    """The subscriber that was erased."""

    erased: int


class RefusedOut(BaseModel):
    """Why nothing was exported or erased."""

    error: str


def build_data_requests_router(requests: DataRequests, access: AccessGuard) -> APIRouter:
    """Return the export and erase routes."""
    router = APIRouter(
        prefix="/api/admin/subscribers", tags=["admin: subscribers"], responses=GUARDED
    )
    responses: dict[int | str, dict[str, Any]] = {
        404: {"model": RefusedOut, "description": "no subscriber has this address"},
        **UNREADABLE,
    }

    @router.post(
        "/export",
        summary="Everything stored about one subscriber, by address (admin)",
        response_model=SubscriberExportOut,
        responses=responses,
        dependencies=[Depends(access.require(ADMIN))],
    )
    async def export(body: AddressIn) -> Any:
        try:
            document = await requests.export(body.address)
        except AddressError as error:
            return _invalid(error)
        if document is None:
            return JSONResponse({"error": "no subscriber has this address"}, status_code=404)
        return document

    @router.post(
        "/erase",
        summary="Erase one subscriber on request, by address (admin)",
        response_model=ErasedOut,
        responses=responses,
    )
    async def erase(body: AddressIn, actor: str = Depends(access.require(ADMIN))) -> Any:
        try:
            erased = await requests.erase(body.address, actor=actor)
        except AddressError as error:
            return _invalid(error)
        if erased is None:
            return JSONResponse({"error": "no subscriber has this address"}, status_code=404)
        return {"erased": erased}

    return router


def _invalid(error: AddressError) -> JSONResponse:
    """422 in FastAPI's own shape, naming the field."""
    detail = [{"type": "value_error", "loc": ["body", "address"], "msg": str(error)}]
    return JSONResponse({"detail": detail}, status_code=422)
