"""The console's deliveries page: notifications that failed or went dead, and Retry."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.delivery_retry import RetryRefusedError, retry_dead
from monitor.admin.tokens import RESPONDER
from monitor.console.deliveries_view import load_deliveries, parse_filters
from monitor.console.forms import Form
from monitor.console.gate import RefusedError
from monitor.console.pages import done_message
from monitor.console.parts import ConsoleParts, console_path, parse_id
from monitor.console.sessions import SignedIn
from monitor.storage.deliveries import DEAD

BACK = console_path("deliveries")


def add_deliveries_routes(router: APIRouter, parts: ConsoleParts) -> None:
    """GET /console/deliveries (?status=failed|dead&channel=&after_id=) and Retry."""

    @router.get("/deliveries")
    async def deliveries(request: Request) -> Response:
        signed = await parts.gate.signed_in(request)
        filters = parse_filters(request.query_params)
        page = await load_deliveries(parts.database, filters)
        return parts.pages.render(
            "deliveries.html", signed, page=page, dead=DEAD,
            done=done_message(request.query_params.get("done")),
        )  # fmt: skip

    @router.post("/deliveries/{delivery_id}/retry")
    async def retry(request: Request, delivery_id: str) -> Response:
        number = parse_id(delivery_id, "delivery")

        async def again(signed: SignedIn, form: Form) -> None:
            # The same rule as POST /api/admin/deliveries/{id}/retry: dead ones only.
            async with parts.database.transaction() as session:
                try:
                    await retry_dead(session, number, parts.clock.now())
                except RetryRefusedError as refused:
                    raise RefusedError(refused.status, refused.message) from None

        return await parts.perform(request, RESPONDER, again, back=BACK, done="retried")
