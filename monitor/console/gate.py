"""The console's door: the session cookie, the CSRF check and the role each action needs."""

from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.auth import IDENTITY
from monitor.admin.tokens import Role, role_allows
from monitor.console.forms import Form, FormError, read_form
from monitor.console.sessions import ConsoleSessions, Opened, SignedIn

COOKIE = "exwatch_console"
PREFIX = "/console"


class RefusedError(Exception):
    """An action the console refuses, with the status to answer and a message for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Gate:
    """Resolves the signed-in session of a request, or sends the browser to sign in."""

    def __init__(self, sessions: ConsoleSessions) -> None:
        self.sessions = sessions

    async def signed_in(self, request: Request) -> SignedIn:
        """The live session; otherwise a 303 to the sign-in page that comes back here."""
        signed = await self.sessions.resume(request.cookies.get(COOKIE, ""))
        if signed is None:
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target = f"{PREFIX}/sign-in?next={quote(back, safe='')}"
            raise HTTPException(303, "sign in first", headers={"Location": target})
        # The audit middleware records writes by whoever is named here.
        setattr(request.state, IDENTITY, signed.identity)
        return signed

    async def posted(self, request: Request, role: Role) -> tuple[SignedIn, Form]:
        """A form post from a signed-in person holding ``role``, with a valid CSRF token."""
        signed = await self.signed_in(request)
        try:
            form = await read_form(request)
        except FormError as error:
            raise RefusedError(error.status, error.message) from None
        if not hmac.compare_digest(form.get("csrf_token").encode(), signed.csrf.encode()):
            raise RefusedError(
                403, "this form has expired or did not come from the console: reload it"
            )
        if not role_allows(signed.identity.role, role):
            raise RefusedError(
                403, f"this needs the {role} role; you signed in as a {signed.identity.role}"
            )
        return signed, form


def set_cookie(response: Response, request: Request, opened: Opened, max_age: int) -> None:
    """Give the browser the session cookie: HttpOnly, SameSite=Strict, Secure over https."""
    response.set_cookie(
        COOKIE, opened.cookie, max_age=max_age, path=PREFIX, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def clear_cookie(response: Response, request: Request) -> None:
    """Tell the browser to forget the session cookie."""
    response.delete_cookie(
        COOKIE, path=PREFIX, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def safe_next(target: str) -> str:
    """Where to go after signing in: only a console path, never another site."""
    if target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX
