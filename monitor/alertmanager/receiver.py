"""``POST /api/alertmanager``: the Alertmanager webhook receiver (payload version 4).

Alertmanager treats any 2xx as delivered, retries a 5xx, and never retries a 4xx. So a
payload that can never be accepted is a 4xx naming what is wrong, a database that fails is a
503 (retried, and the retry is idempotent), and everything else is a 200 with counts.
"""

from __future__ import annotations

import logging
from typing import Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from monitor.admin.auth import AccessGuard
from monitor.admin.tokens import RESPONDER
from monitor.alertmanager.api_docs import RECEIVER
from monitor.alertmanager.intake import Intake, Outcome, Plan
from monitor.alertmanager.payload import PayloadError, parse_payload
from monitor.clock import Clock
from monitor.config import Config
from monitor.engine import AlertEngine

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 4 * 1024 * 1024


class AlertmanagerServices(Protocol):
    """The parts of ``monitor.app.Services`` the receiver uses."""

    @property
    def config(self) -> Config:
        """The config in force (components and ``alertmanager`` routing), read per payload."""
        ...

    @property
    def engine(self) -> AlertEngine:
        """The engine whose lock and alert book every change goes through."""
        ...

    @property
    def clock(self) -> Clock:
        """Where time comes from."""
        ...


def build_alertmanager_router(services: AlertmanagerServices, access: AccessGuard) -> APIRouter:
    """Return the webhook route; it admits EXWATCH_ADMIN_TOKEN or a responder's token."""
    router = APIRouter()
    intake = Intake(services.engine.book, lambda: services.config)

    # The token is checked (a dependency) before the body is read: strangers cannot make us
    # parse anything.
    @router.post(
        "/api/alertmanager",
        summary="Alertmanager webhook receiver (payload version 4)",
        dependencies=[Depends(access.require(RESPONDER))],
        **RECEIVER,
    )
    async def receive(request: Request) -> JSONResponse:
        try:
            plan = intake.plan(parse_payload(await read_body(request, MAX_BODY_BYTES)))
        except PayloadError as error:
            log.warning("Alertmanager payload refused (%d): %s", error.status, error)
            return refusal(error)
        try:
            outcome = await _apply(services, intake, plan)
        except (SQLAlchemyError, OSError) as error:
            log.error("Alertmanager notification not applied, Alertmanager retries: %s", error)
            return JSONResponse(
                {"error": "the database is unavailable; retry later"},
                status_code=503,
                headers={"Retry-After": "10"},
            )
        if not plan.routed:
            return refusal(_nothing_routed(plan))
        return JSONResponse(outcome.to_json())

    return router


async def _apply(services: AlertmanagerServices, intake: Intake, plan: Plan) -> Outcome:
    """Apply the plan in one transaction under the engine's lock."""
    async with services.engine.exclusive() as session:
        # Read the time inside the lock, so it never runs behind another writer's.
        outcome = await intake.apply(session, plan, services.clock.now())
    intake.committed(outcome)
    return outcome


def _nothing_routed(plan: Plan) -> PayloadError:
    reasons = [f"alerts[{item.index}]: {item.reason}" for item in plan.ignored]
    return PayloadError(422, ["alerts: no alert maps to a component", *reasons[:20]])


async def read_body(request: Request, limit: int) -> bytes:
    """Return the request body; raise PayloadError (413) past ``limit`` bytes without reading on."""
    declared = request.headers.get("content-length", "")
    too_large = PayloadError(
        413, [f"<body>: larger than {limit} bytes; set max_alerts in the webhook_config"]
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def refusal(error: PayloadError) -> JSONResponse:
    """Return a 4xx naming the first problem, with all of them listed."""
    return JSONResponse(
        {"error": error.problems[0], "problems": error.problems}, status_code=error.status
    )
