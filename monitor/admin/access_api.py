"""Admin routes for access control: API tokens and the audit log (role admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from monitor.admin.auth import AccessGuard
from monitor.admin.responses import GUARDED, UNREADABLE, Detail, invalid, responses
from monitor.admin.token_desk import TokenDesk, TokenRequestError
from monitor.admin.tokens import ADMIN, Role
from monitor.storage.api_tokens import TokenRow
from monitor.storage.audit import AuditRow
from probes import parse_duration

TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class TokenIn(BaseModel):
    """A token to create: its name, its role, and optionally how long it lasts (e.g. 90d)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    expires: str | None = Field(default=None, max_length=32, description="e.g. 90d; none: never")


class TokenOut(BaseModel):
    """A stored token, without its secret or hash."""

    id: int
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class CreatedOut(TokenOut):
    """A new token with its secret: shown this once and never again."""

    token: str


class AuditOut(BaseModel):
    """One audit entry."""

    id: int
    at: datetime
    actor: str
    role: str | None
    method: str
    route: str
    summary: str | None
    client: str | None
    status: int | None


class AuditPage(BaseModel):
    """Audit entries oldest first; ``next_after_id`` continues (null at the end)."""

    entries: list[AuditOut]
    next_after_id: int | None


def build_access_router(desk: TokenDesk, access: AccessGuard) -> APIRouter:
    """Return ``/api/admin/tokens`` and ``/api/admin/audit``."""
    router = APIRouter(
        prefix="/api/admin", tags=["admin: access"], dependencies=[Depends(access.require(ADMIN))],
        responses=GUARDED,
    )  # fmt: skip

    @router.get("/audit", summary="The audit log of writes, oldest first after a cursor")
    async def audit(
        after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> AuditPage:
        rows = await desk.audit(after_id=after_id, limit=limit)
        more = len(rows) == limit
        return AuditPage(
            entries=[_audit(r) for r in rows], next_after_id=rows[-1].id if more else None
        )

    @router.get("/tokens", summary="API tokens (never their secrets)")
    async def tokens() -> list[TokenOut]:
        return [_token(row) for row in await desk.tokens()]

    @router.post(
        "/tokens", status_code=201, summary="Create a token: its secret is shown once",
        responses=UNREADABLE,
    )  # fmt: skip
    async def create(body: TokenIn) -> CreatedOut:
        try:
            expires_in = None if body.expires is None else parse_duration(body.expires)
        except ValueError as error:
            raise invalid("body", "expires", str(error)) from None
        try:
            made = await desk.create(body.name, body.role, expires_in=expires_in)
        except TokenRequestError as error:  # "field: what is wrong"
            field, _, message = str(error).partition(": ")
            raise invalid("body", field, message) from None
        return CreatedOut(
            id=made.id, name=made.name, role=made.role, created_at=made.created_at,
            expires_at=made.expires_at, revoked_at=None, last_used_at=None, token=made.token,
        )  # fmt: skip

    @router.delete(
        "/tokens/{token_id}", status_code=204, summary="Revoke a token",
        responses=responses(Detail, 404),
    )  # fmt: skip
    async def revoke(token_id: TokenId) -> Response:
        if not await desk.revoke(token_id):
            raise HTTPException(404, f"no token {token_id} to revoke")
        return Response(status_code=204)

    return router


def _token(row: TokenRow) -> TokenOut:
    return TokenOut(
        id=row.id, name=row.name, role=row.role, created_at=row.created_at,
        expires_at=row.expires_at, revoked_at=row.revoked_at, last_used_at=row.last_used_at,
    )  # fmt: skip


def _audit(row: AuditRow) -> AuditOut:
    entry = row.entry
    return AuditOut(
        id=row.id, at=entry.at, actor=entry.actor, role=entry.role, method=entry.method,
        route=entry.route, summary=entry.summary, client=entry.client, status=entry.status,
    )  # fmt: skip
