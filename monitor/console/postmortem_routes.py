"""The console's postmortem actions: preview, save, publish (responder)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.tokens import RESPONDER
from monitor.console.forms import Form
from monitor.console.gate import RefusedError
from monitor.console.incident_routes import show
from monitor.console.incident_view import Draft
from monitor.console.parts import ConsoleParts, console_path, parse_id, redirect
from monitor.console.postmortem_panel import postmortem_panel
from monitor.console.sessions import SignedIn
from monitor.postmortems.render import render_postmortem
from monitor.postmortems.service import PostmortemService
from monitor.responder import ActionRefusedError


def add_postmortem_routes(router: APIRouter, parts: ConsoleParts) -> None:
    """POST /console/incidents/{id}/postmortem (preview or save) and …/postmortem/publish."""

    @router.post("/incidents/{incident_id}/postmortem")
    async def write(request: Request, incident_id: str) -> Response:
        signed, form = await parts.gate.posted(request, RESPONDER)
        return await _write(parts, _service(parts), signed, parse_id(incident_id, "incident"), form)

    @router.post("/incidents/{incident_id}/postmortem/publish")
    async def publish(request: Request, incident_id: str) -> Response:
        number, service = parse_id(incident_id, "incident"), _service(parts)
        return await parts.perform(
            request, RESPONDER, lambda s, _: service.publish(number, s.identity.actor),
            back=console_path("incidents", number), done="postmortem_published",
        )  # fmt: skip


async def _write(
    parts: ConsoleParts, service: PostmortemService, signed: SignedIn, number: int, form: Form
) -> Response:
    """Preview the Markdown as the public page renders it, or save it; refusals keep the text."""
    text = form.get("markdown")
    try:
        if form.get("action") == "preview":
            panel = await postmortem_panel(
                service, number, draft=text, preview=render_postmortem(text)
            )
            return await show(parts, signed, number, Draft(), postmortem=panel)
        await service.save_draft(number, text, signed.identity.actor)
    except ActionRefusedError as refused:
        panel = await postmortem_panel(service, number, draft=text)
        return await show(
            parts, signed, number, Draft(), postmortem=panel, error=refused.message,
            status=refused.status,
        )  # fmt: skip
    return redirect(f"{console_path('incidents', number)}?done=postmortem_saved")


def _service(parts: ConsoleParts) -> PostmortemService:
    if parts.postmortems is None:
        raise RefusedError(503, "postmortems are not available in this console")
    return parts.postmortems
