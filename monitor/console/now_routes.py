"""The console's Now page, and overriding a component's public status from it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.tokens import RESPONDER
from monitor.console.forms import Form
from monitor.console.gate import PREFIX, RefusedError
from monitor.console.incident_view import COMPONENT_STATUSES, component_names
from monitor.console.now import now_view
from monitor.console.pages import done_message
from monitor.console.parts import ConsoleParts, choice, required, safe_back
from monitor.console.sessions import SignedIn
from monitor.domain import ComponentStatus


def add_now_routes(router: APIRouter, parts: ConsoleParts) -> None:
    """GET /console and the component override forms."""

    @router.get("")
    async def now(request: Request, done: str | None = None) -> Response:
        signed = await parts.gate.signed_in(request)
        view = await now_view(parts.database)
        return parts.pages.render(
            "now.html", signed, view=view, done=done_message(done),
            components=component_names(parts.config), statuses=COMPONENT_STATUSES,
        )  # fmt: skip

    @router.post("/components/override")
    async def override(request: Request) -> Response:
        async def apply(signed: SignedIn, form: Form) -> None:
            component = _component(parts, form)
            status = choice(form, "status", "Status", ComponentStatus)
            message = _message(form)
            await parts.responder.override(
                component, status, parts.clock.now(), actor=signed.identity.actor,
                reason=required(form, "reason", "Reason"), message=message,
            )  # fmt: skip

        back = safe_back(request.query_params.get("back", PREFIX))
        return await parts.perform(request, RESPONDER, apply, back=back, done="override")

    @router.post("/components/override/clear")
    async def clear(request: Request) -> Response:
        async def apply(signed: SignedIn, form: Form) -> None:
            await parts.responder.override(
                _component(parts, form), None, parts.clock.now(), actor=signed.identity.actor,
                reason=required(form, "reason", "Reason"),
            )  # fmt: skip

        back = safe_back(request.query_params.get("back", PREFIX))
        return await parts.perform(request, RESPONDER, apply, back=back, done="override_cleared")


def _component(parts: ConsoleParts, form: Form) -> str:
    component = required(form, "component", "Component", limit=200)
    if component not in component_names(parts.config):
        raise RefusedError(422, f"Component: there is no component {component!r}")
    return component


def _message(form: Form) -> dict[str, str] | None:
    ja, en = form.get("message_ja"), form.get("message_en")
    if not ja and not en:
        return None
    return {"ja": ja or en, "en": en or ja}
