"""The console's maintenance page: windows by state; schedule, edit and cancel through the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.tokens import RESPONDER
from monitor.console.forms import Form
from monitor.console.gate import RefusedError
from monitor.console.incident_view import component_names
from monitor.console.local_time import LocalTimeError, parse_local
from monitor.console.maintenance_view import EDITABLE, Draft, draft_of, load_windows
from monitor.console.pages import done_message
from monitor.console.parts import ConsoleParts, console_path, parse_id, redirect, required
from monitor.console.sessions import SignedIn
from monitor.maintenance import MaintenanceService
from monitor.maintenance.errors import (
    ConflictError,
    InvalidFieldError,
    MaintenanceError,
    NotFoundError,
)
from monitor.maintenance.windows import WindowChanges
from monitor.storage.maintenance import MaintenanceRow, NewMaintenance

NAME_LIMIT, BODY_LIMIT, REASON_LIMIT = 200, 10_000, 2000  # as the admin API's models
LABELS = {
    "name_ja": "Title (日本語)", "name_en": "Title (English)", "body_ja": "Details (日本語)",
    "body_en": "Details (English)", "start": "Start", "end": "End", "components": "Components",
    "scheduled_start": "Start", "scheduled_end": "End", "reason": "Reason",
}  # fmt: skip
LIST = console_path("maintenance")
TEXTS = ("name_ja", "name_en", "body_ja", "body_en")


def add_maintenance_routes(router: APIRouter, parts: ConsoleParts) -> None:
    """GET /console/maintenance, scheduling, the edit form and cancelling."""

    @router.get("/maintenance")
    async def listing(request: Request, done: str | None = None) -> Response:
        signed = await parts.gate.signed_in(request)
        return await _show_list(parts, signed, Draft(), done=done_message(done))

    @router.post("/maintenance")
    async def schedule(request: Request) -> Response:
        signed, form = await parts.gate.posted(request, RESPONDER)
        draft = _draft(form, Draft())
        try:
            with _refusals():
                new = _checked_new(parts, draft)
                await _service(parts).schedule(new, actor=signed.identity.actor)
        except RefusedError as refused:
            return await _show_list(
                parts, signed, draft, error=refused.message, status=refused.status
            )
        return redirect(f"{LIST}?done=scheduled")

    @router.post("/maintenance/{maintenance_id}/cancel")
    async def cancel(request: Request, maintenance_id: str) -> Response:
        number = parse_id(maintenance_id, "maintenance")

        async def apply(signed: SignedIn, form: Form) -> None:
            reason = _optional(form, "reason", REASON_LIMIT)
            with _refusals():
                await _service(parts).cancel(number, actor=signed.identity.actor, reason=reason)

        return await parts.perform(request, RESPONDER, apply, back=LIST, done="cancelled")

    _add_edit_routes(router, parts)


def _add_edit_routes(router: APIRouter, parts: ConsoleParts) -> None:
    @router.get("/maintenance/{maintenance_id}/edit")
    async def edit_form(request: Request, maintenance_id: str) -> Response:
        signed = await parts.gate.signed_in(request)
        window = await _window(parts, parse_id(maintenance_id, "maintenance"))
        return _show_edit(parts, signed, window, draft_of(window, _zone(parts)))

    @router.post("/maintenance/{maintenance_id}/edit")
    async def edit(request: Request, maintenance_id: str) -> Response:
        number = parse_id(maintenance_id, "maintenance")
        signed, form = await parts.gate.posted(request, RESPONDER)
        window = await _window(parts, number)
        before = draft_of(window, _zone(parts))
        draft = _draft(form, before)
        try:
            with _refusals():
                changes = _checked_changes(parts, window, draft, before)
                await _service(parts).edit(number, changes, actor=signed.identity.actor)
        except RefusedError as refused:
            return _show_edit(
                parts, signed, window, draft, error=refused.message, status=refused.status
            )
        return redirect(f"{LIST}?done=edited")


async def _show_list(
    parts: ConsoleParts,
    signed: SignedIn,
    draft: Draft,
    *,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """Render the maintenance list with the schedule form (its draft, or an error)."""
    view = await load_windows(parts.database, parts.clock.now())
    return parts.pages.render(
        "maintenance.html", signed, status=status, view=view, draft=draft, done=done,
        error=error, components=component_names(parts.config), zone=_zone(parts).key,
        editable=EDITABLE,
    )  # fmt: skip


def _show_edit(
    parts: ConsoleParts,
    signed: SignedIn,
    window: MaintenanceRow,
    draft: Draft,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """Render one window's edit form."""
    return parts.pages.render(
        "maintenance_edit.html", signed, status=status, window=window, draft=draft,
        error=error, components=component_names(parts.config), zone=_zone(parts).key,
        editable=EDITABLE,
    )  # fmt: skip


def _draft(form: Form, fallback: Draft) -> Draft:
    """The posted fields; a field the form did not send (disabled) keeps ``fallback``'s value."""
    sent = {key for key, _ in form.pairs}
    components = form.getlist("components") if "components_shown" in sent else None
    return Draft(
        form.get("name_ja"), form.get("name_en"), form.get("body_ja"), form.get("body_en"),
        form.get("start") if "start" in sent else fallback.start,
        form.get("end") if "end" in sent else fallback.end,
        fallback.components if components is None else tuple(components),
    )  # fmt: skip


def _checked_new(parts: ConsoleParts, draft: Draft) -> NewMaintenance:
    """A new window from the form, every field checked (422 naming the first bad one)."""
    texts = _texts(draft)
    start, end = _times(parts, draft)
    return NewMaintenance(
        texts.name_ja, texts.name_en, texts.body_ja, texts.body_en, scheduled_start=start,
        scheduled_end=end, components=_components(parts, draft.components),
    )  # fmt: skip


def _checked_changes(
    parts: ConsoleParts, window: MaintenanceRow, draft: Draft, before: Draft
) -> WindowChanges:
    """The edit: the texts as posted; times and components only where they differ."""
    texts = _texts(draft)
    start, end = _times(parts, draft)
    components = _components(parts, draft.components) if window.status in EDITABLE else None
    return WindowChanges(
        texts.name_ja, texts.name_en, texts.body_ja, texts.body_en, components=components,
        scheduled_start=None if draft.start == before.start else start,
        scheduled_end=None if draft.end == before.end else end,
    )  # fmt: skip


def _texts(draft: Draft) -> Draft:
    """The titles (required) and details (optional), within the admin API's limits."""
    form = Form(tuple((name, getattr(draft, name)) for name in TEXTS))
    ja, en = (required(form, name, LABELS[name], limit=NAME_LIMIT) for name in TEXTS[:2])
    body_ja, body_en = (_optional(form, name, BODY_LIMIT) or "" for name in TEXTS[2:])
    return Draft(ja, en, body_ja, body_en)


def _times(parts: ConsoleParts, draft: Draft) -> tuple[datetime, datetime]:
    zone = _zone(parts)
    start = _local(draft.start, "start", zone)
    end = _local(draft.end, "end", zone)
    if end <= start:
        raise RefusedError(422, f"End: must be after the start ({draft.start} {zone.key})")
    return start, end


def _local(text: str, name: str, zone: ZoneInfo) -> datetime:
    if not text:
        raise RefusedError(422, f"{LABELS[name]}: this field is required")
    try:
        return parse_local(text, zone)
    except LocalTimeError as error:
        raise RefusedError(422, f"{LABELS[name]}: {error}") from None


def _components(parts: ConsoleParts, chosen: tuple[str, ...]) -> tuple[str, ...]:
    if not chosen:
        raise RefusedError(422, "Components: choose at least one")
    known = component_names(parts.config)
    for component in chosen:
        if component not in known:
            raise RefusedError(422, f"Components: there is no component {component!r}")
    return tuple(dict.fromkeys(chosen))


def _optional(form: Form, name: str, limit: int) -> str | None:
    value = form.optional(name)
    if value is not None and len(value) > limit:
        raise RefusedError(
            422, f"{LABELS[name]}: at most {limit} characters (this is {len(value)})"
        )
    return value


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as the console's: 404, 409, and 422 naming the form's field."""
    try:
        yield
    except NotFoundError as error:
        raise RefusedError(404, error.message) from None
    except ConflictError as error:
        raise RefusedError(409, error.message) from None
    except InvalidFieldError as error:
        label = LABELS.get(error.field, error.field)
        raise RefusedError(422, f"{label}: {error.message}") from None
    except MaintenanceError as error:  # a kind of refusal added later: still no traceback
        raise RefusedError(400, error.message) from None


async def _window(parts: ConsoleParts, number: int) -> MaintenanceRow:
    with _refusals():
        return await _service(parts).get(number)


def _service(parts: ConsoleParts) -> MaintenanceService:
    if parts.maintenance is None:
        raise RefusedError(503, "maintenance is not set up in this exwatch")
    return parts.maintenance


def _zone(parts: ConsoleParts) -> ZoneInfo:
    return ZoneInfo(parts.config.site.time_zone)
