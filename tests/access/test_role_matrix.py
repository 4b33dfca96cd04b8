"""Every admin route in the OpenAPI schema × every kind of caller: allowed or denied."""

from __future__ import annotations

import re

import pytest

from monitor.storage.database import Database
from tests.access.support import running
from tests.support import FakeClock

ROLES = ("viewer", "responder", "admin")
ADMIN_ONLY = (
    "/api/admin/tokens",
    "/api/admin/audit",
    "/api/admin/subscribers",
    "/api/admin/config",
)
NO_SUCH_ID = "424242"  # every path parameter: nothing is changed by an allowed call


def needed_role(method: str, path: str) -> str:
    """The role each route must declare (#7): admin for access and subscribers, else by method."""
    if path.startswith(ADMIN_ONLY):
        return "admin"
    return "viewer" if method == "GET" else "responder"


def expected(caller: str | None, needed: str) -> str:
    """``allowed``, or the status a denial has."""
    if caller in (None, "revoked", "expired", "wrong"):
        return "401"
    if caller == "operator" or ROLES.index(caller) >= ROLES.index(needed):
        return "allowed"
    return "403"


def outcome(status: int) -> str:
    return str(status) if status in (401, 403, 429) else "allowed"


async def test_every_admin_route_admits_exactly_the_roles_it_declares(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        access.secrets["wrong"] = "exw_" + "A" * 43
        paths = access.app.openapi()["paths"]
        routes = [
            (method.upper(), path)
            for path, operations in paths.items()
            if path.startswith("/api/admin")
            for method in operations
        ]
        assert len(routes) >= 30  # the walk sees the whole admin API
        mismatches = []
        for method, template in routes:
            path = re.sub(r"\{[^}]+\}", NO_SUCH_ID, template)
            needed = needed_role(method, template)
            for caller in (None, "revoked", "expired", "wrong", *ROLES, "operator"):
                response = await access.call(method, path, caller)
                if outcome(response.status_code) != expected(caller, needed):
                    mismatches.append((method, template, caller, response.status_code))
    assert mismatches == []


@pytest.mark.parametrize(
    ("caller", "status"), [(None, 401), ("revoked", 401), ("viewer", 403), ("expired", 401)]
)
async def test_alertmanager_needs_a_responder(
    database: Database, clock: FakeClock, caller: str | None, status: int
) -> None:
    async with running(database, clock) as access:
        response = await access.call("POST", "/api/alertmanager", caller, content=b"{}")
    assert response.status_code == status


@pytest.mark.parametrize("caller", ["responder", "admin", "operator"])
async def test_alertmanager_admits_a_responder_token_and_the_operator_token(
    database: Database, clock: FakeClock, caller: str
) -> None:
    async with running(database, clock) as access:
        response = await access.call("POST", "/api/alertmanager", caller, content=b"{}")
    assert response.status_code == 422  # past the guard: the payload itself is refused
