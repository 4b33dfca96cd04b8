"""The console's incident page and its actions: acknowledge, update, severity, resolve, export."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.tokens import RESPONDER
from monitor.console.forms import Form
from monitor.console.gate import RefusedError
from monitor.console.incident_view import Draft, IncidentPage, component_names, load_incident
from monitor.console.pages import done_message
from monitor.console.parts import ConsoleParts, choice, console_path, parse_id, redirect, required
from monitor.console.postmortem_panel import PostmortemPanel, postmortem_panel
from monitor.console.preview import UpdatePreview, preview_update
from monitor.console.sessions import SignedIn
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.notices import Text
from monitor.report import as_file, export_format, load_report, render
from monitor.responder import ActionRefusedError

REPORT_FORMATS = ("md", "json", "csv")


def add_incident_routes(router: APIRouter, parts: ConsoleParts) -> None:
    """The incident page, its forms and the report download."""

    @router.get("/incidents/{incident_id}")
    async def incident(request: Request, incident_id: str, done: str | None = None) -> Response:
        signed = await parts.gate.signed_in(request)
        number = parse_id(incident_id, "incident")
        return await show(parts, signed, number, Draft(), done=done_message(done))

    @router.post("/incidents/{incident_id}/updates")
    async def update(request: Request, incident_id: str) -> Response:
        signed, form = await parts.gate.posted(request, RESPONDER)
        return await post_update(parts, signed, parse_id(incident_id, "incident"), form)

    @router.get("/incidents/{incident_id}/report.{extension}")
    async def report(request: Request, incident_id: str, extension: str) -> Response:
        await parts.gate.signed_in(request)
        return await download(parts, parse_id(incident_id, "incident"), extension)

    _add_actions(router, parts)


def _add_actions(router: APIRouter, parts: ConsoleParts) -> None:
    responder, now = parts.responder, parts.clock.now

    for verb, act, done in (
        ("ack", responder.acknowledge, "acknowledged"),
        ("unack", responder.unacknowledge, "unacknowledged"),
    ):
        _add_ack_route(router, parts, verb, act, done)

    @router.post("/incidents/{incident_id}/severity")
    async def severity(request: Request, incident_id: str) -> Response:
        number = parse_id(incident_id, "incident")

        async def change(signed: SignedIn, form: Form) -> None:
            chosen = choice(form, "severity", "Severity", Severity)
            reason = required(form, "reason", "Reason")
            await responder.change_severity(
                number, chosen, reason, now(), actor=signed.identity.actor
            )

        return await parts.perform(request, RESPONDER, change, back=_back(number), done="severity")

    @router.post("/incidents/{incident_id}/resolve")
    async def resolve(request: Request, incident_id: str) -> Response:
        number = parse_id(incident_id, "incident")

        async def close(signed: SignedIn, form: Form) -> None:
            text = _texts(form.get("body_ja"), form.get("body_en"))
            await responder.resolve(
                number,
                now(),
                actor=signed.identity.actor,
                text=text,
                force=form.get("force") == "yes",
            )

        return await parts.perform(request, RESPONDER, close, back=_back(number), done="resolved")


AckAction = Callable[..., Awaitable[None]]


def _add_ack_route(
    router: APIRouter, parts: ConsoleParts, verb: str, act: AckAction, done: str
) -> None:
    """POST /console/incidents/{id}/ack or /unack."""

    async def route(request: Request, incident_id: str) -> Response:
        number = parse_id(incident_id, "incident")
        return await parts.perform(
            request, RESPONDER, lambda s, _: act(number, parts.clock.now(), actor=s.identity.actor),
            back=_back(number), done=done,
        )  # fmt: skip

    router.add_api_route(f"/incidents/{{incident_id}}/{verb}", route, methods=["POST"])


async def show(
    parts: ConsoleParts,
    signed: SignedIn,
    number: int,
    draft: Draft,
    *,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
    preview: UpdatePreview | None = None,
    postmortem: PostmortemPanel | None = None,
) -> Response:
    """Render the incident page (with the forms' drafts, a preview or an error)."""
    detail, timeline = await load_incident(parts.database, number)
    panel = postmortem or await postmortem_panel(parts.postmortems, number)
    page = IncidentPage(detail, timeline, component_names(parts.config), draft, preview, panel)
    return parts.pages.render(
        "incident.html", signed, status=status, page=page, done=done, error=error,
        formats=REPORT_FORMATS,
    )  # fmt: skip


async def post_update(parts: ConsoleParts, signed: SignedIn, number: int, form: Form) -> Response:
    """Preview or post a bilingual update; a refusal shows the page again with the draft kept."""
    draft = Draft(
        form.get("status"), form.get("body_ja"), form.get("body_en"),
        {k.removeprefix("component:"): v for k, v in form.pairs if k.startswith("component:") and v},
    )  # fmt: skip
    try:
        status, body, components = _checked_update(parts, draft)
        if form.get("action") == "preview":
            detail, _ = await load_incident(parts.database, number)
            preview = preview_update(detail, status, body, parts.config, parts.previewer)
            return await show(parts, signed, number, draft, preview=preview)
        await parts.responder.post(
            number, IncidentStatus(status), {"ja": body.ja, "en": body.en}, parts.clock.now(),
            actor=signed.identity.actor, components=components or None,
        )  # fmt: skip
    except (RefusedError, ActionRefusedError) as refused:
        message = refused.message
        return await show(parts, signed, number, draft, error=message, status=refused.status)
    return redirect(f"{_back(number)}?done=posted")


def _checked_update(
    parts: ConsoleParts, draft: Draft
) -> tuple[str, Text, dict[str, ComponentStatus]]:
    """The update's fields, checked: a known status, both texts, known component statuses."""
    form = Form((("status", draft.status), ("body_ja", draft.body_ja), ("body_en", draft.body_en)))
    status = choice(form, "status", "Status", IncidentStatus)
    body = Text(
        required(form, "body_ja", "Japanese text"), required(form, "body_en", "English text")
    )
    known = component_names(parts.config)
    components = {}
    for component, value in draft.components.items():
        if component not in known:
            raise RefusedError(422, f"component {component!r}: there is no such component")
        components[component] = choice(
            Form((("s", value),)), "s", f"Status of {component}", ComponentStatus
        )
    return str(status), body, components


async def download(parts: ConsoleParts, number: int, extension: str) -> Response:
    """The incident report as a file (Markdown, JSON or CSV), as `exwatch incidents export` writes it."""
    if extension not in REPORT_FORMATS:
        raise RefusedError(404, f"no report format {extension!r}: use md, json or csv")
    report = await load_report(parts.database, number, now=parts.clock.now())
    if report is None:
        raise RefusedError(404, f"there is no incident #{number}")
    fmt = export_format(extension)
    body = as_file(render(report, extension, zone=parts.pages.zone), extension)
    disposition = f'attachment; filename="{fmt.filename(number)}"'
    return Response(body, media_type=fmt.media_type, headers={"Content-Disposition": disposition})


def _texts(ja: str, en: str) -> dict[str, str] | None:
    if not ja and not en:
        return None
    return {"ja": ja or en, "en": en or ja}


def _back(number: int) -> str:
    return console_path("incidents", number)
