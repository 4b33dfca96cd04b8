"""What the console's routes work with, handed in by the app's wiring."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.admin.tokens import Role
from monitor.clock import Clock
from monitor.config import Config
from monitor.console.forms import Form
from monitor.console.gate import PREFIX, Gate, RefusedError, safe_next
from monitor.console.pages import Pages
from monitor.console.preview import PostPreviewer
from monitor.console.sessions import SignedIn
from monitor.maintenance.service import MaintenanceService
from monitor.postmortems.service import PostmortemService
from monitor.reload.live import LiveConfig
from monitor.reports.desk import ReportDesk
from monitor.responder import ActionRefusedError, Responder
from monitor.storage.database import Database

T = TypeVar("T")
Action = Callable[[SignedIn, Form], Awaitable[object]]
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ConsoleParts:
    """The services the console drives and the way it renders and guards its pages."""

    database: Database
    clock: Clock
    live: LiveConfig
    responder: Responder
    gate: Gate
    pages: Pages
    previewer: PostPreviewer | None = None
    maintenance: MaintenanceService | None = None  # the maintenance page refuses without it
    reports: ReportDesk | None = None  # the reports page's policy and component names
    postmortems: PostmortemService | None = None

    @property
    def config(self) -> Config:
        """The config in force (a reload replaces it)."""
        return self.live.current

    async def perform(
        self, request: Request, role: Role, action: Action, *, back: str, done: str
    ) -> Response:
        """Run a form's action for a signed-in person; then back to ``back`` saying ``done``.

        A refusal from the responder (409 and the like) is shown as a page with its reason.
        """
        signed, form = await self.gate.posted(request, role)
        try:
            await action(signed, form)
        except ActionRefusedError as refused:
            raise RefusedError(refused.status, refused.message) from None
        return redirect(f"{back}?done={done}")


def redirect(target: str) -> RedirectResponse:
    """See Other: after a post the browser loads ``target`` with GET (reload does not repost)."""
    return RedirectResponse(target, status_code=303)


def console_path(*parts: object) -> str:
    """A console URL from its parts, e.g. console_path("incidents", 4)."""
    return "/".join([PREFIX, *(str(p) for p in parts)])


def safe_back(target: str) -> str:
    """A console path to return to after a post; anything else goes to the Now page."""
    return safe_next(target.split("?", 1)[0])


def parse_id(text: str, what: str) -> int:
    """A number from a path, or a 404 naming what was not found."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise RefusedError(404, f"there is no {what} {text!r}")
    return int(text)


def required(form: Form, name: str, label: str, *, limit: int = 5000) -> str:
    """A non-blank field of at most ``limit`` characters, or a 422 naming it."""
    value = form.get(name)
    if not value:
        raise RefusedError(422, f"{label}: this field is required")
    if len(value) > limit:
        raise RefusedError(422, f"{label}: at most {limit} characters (this is {len(value)})")
    return value


def choice(form: Form, name: str, label: str, allowed: type[T]) -> T:
    """A field whose value must be one of an enum's values, or a 422 naming the choices."""
    value = form.get(name)
    try:
        return allowed(value)  # type: ignore[call-arg]
    except ValueError:
        names = ", ".join(str(v) for v in allowed)  # type: ignore[attr-defined]
        raise RefusedError(422, f"{label}: {value!r} is not one of {names}") from None
