"""Signing in to the console with a token, and signing out."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from fastapi import APIRouter, HTTPException
from fastapi.security import HTTPAuthorizationCredentials
from starlette.requests import Request
from starlette.responses import Response

from monitor.admin.auth import AccessGuard
from monitor.admin.tokens import VIEWER, token_hash
from monitor.console.forms import FormError, read_form
from monitor.console.gate import COOKIE, PREFIX, clear_cookie, safe_next, set_cookie
from monitor.console.parts import ConsoleParts, console_path, redirect

PRE_COOKIE = "exwatch_console_pre"  # double-submit token of the sign-in form (no session yet)


def add_access_routes(router: APIRouter, parts: ConsoleParts, guard: AccessGuard) -> None:
    """GET/POST /console/sign-in and POST /console/sign-out."""

    @router.get("/sign-in")
    async def sign_in_page(request: Request, next: str = PREFIX) -> Response:
        if await parts.gate.sessions.resume(request.cookies.get(COOKIE, "")) is not None:
            return redirect(safe_next(next))
        return _sign_in_form(parts, request, safe_next(next), None, 200)

    @router.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError as error:
            return _sign_in_form(parts, request, PREFIX, error.message, error.status)
        target = safe_next(form.get("next", PREFIX))
        pre = request.cookies.get(PRE_COOKIE, "")
        if not pre or not hmac.compare_digest(pre.encode(), form.get("csrf_token").encode()):
            return _sign_in_form(parts, request, target, "The form expired: try again.", 403)
        token = form.get("token")
        try:
            identity = await guard.identify(
                request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
            )
        except HTTPException as refused:
            return _sign_in_form(
                parts,
                request,
                target,
                str(refused.detail),
                refused.status_code,
                headers=refused.headers,
            )
        opened = await parts.gate.sessions.open(identity, token_hash(token))
        response = redirect(target)
        set_cookie(response, request, opened, int(parts.gate.sessions.lifetime.total_seconds()))
        response.delete_cookie(PRE_COOKIE, path=PREFIX)
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        await parts.gate.posted(request, VIEWER)
        await parts.gate.sessions.close(request.cookies.get(COOKIE, ""))
        response = redirect(console_path("sign-in"))
        clear_cookie(response, request)
        return response


def _sign_in_form(
    parts: ConsoleParts,
    request: Request,
    target: str,
    error: str | None,
    status: int,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The sign-in page with a fresh double-submit token in a cookie and in the form."""
    pre = secrets.token_urlsafe(24)
    response = parts.pages.render(
        "sign_in.html", None, status=status, error=error, next=target, csrf=pre
    )
    response.set_cookie(
        PRE_COOKIE, pre, max_age=3600, path=PREFIX, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
