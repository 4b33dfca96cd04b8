"""Ingest endpoints: heartbeat pushes from batch jobs (``POST /api/heartbeat/{token}``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from monitor.admin.responses import Done, ErrorOut, responses
from monitor.heartbeats import HeartbeatLedger


def build_ingest_router(ledger: HeartbeatLedger) -> APIRouter:
    """Return the routes that receive pushes."""
    router = APIRouter()

    @router.post(
        "/api/heartbeat/{token}", summary="A batch job reports that it ran",
        response_model=Done, responses=responses(ErrorOut, 404),
    )  # fmt: skip
    async def heartbeat(token: str) -> JSONResponse:
        if await ledger.push(token) is None:
            return JSONResponse({"error": "unknown heartbeat token"}, status_code=404)
        return JSONResponse({"ok": True})

    return router
