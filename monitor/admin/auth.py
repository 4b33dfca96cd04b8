"""Bearer-token authentication for the admin API and Alertmanager (EXWATCH_ADMIN_TOKEN).

Roles per token arrive with #7; until then one admin token opens every admin route.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="EXWATCH_ADMIN_TOKEN")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def admin_guard(token: str | None) -> Callable[[HTTPAuthorizationCredentials | None], str]:
    """Return a dependency that admits the admin token and names the caller ("admin")."""

    def require_admin(credentials: Credentials) -> str:
        if not token:
            raise HTTPException(503, "the admin API is off: set EXWATCH_ADMIN_TOKEN to turn it on")
        presented = "" if credentials is None else credentials.credentials
        # Constant-time: the comparison must not tell an attacker how much of a guess was right.
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise HTTPException(
                401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        return "admin"

    return require_admin
