"""The API's refusals, by example: 422 names the field and says what is wrong, unknown ids are
404 with a message, and a transition the state does not allow is 409 with the reason. Every
one of them is a status the OpenAPI schema documents for its operation.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.api.conftest import SeededApi
from tests.api.support import INCIDENT, WINDOW

UNKNOWN = 987654321


def documented(api: SeededApi, method: str, path: str, status: int) -> bool:
    """Whether the schema lists ``status`` for the operation ``path`` matches."""
    for template, operations in api.api.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path.partition("?")[0]) and method.lower() in operations:
            return str(status) in operations[method.lower()]["responses"]
    raise AssertionError(f"no operation {method} {path}")


async def call(seeded: SeededApi, method: str, path: str, body: Any = None) -> httpx.Response:
    """Send ``body`` as JSON as the operator."""
    return await seeded.api.client.request(method, path, json=body)


def field_errors(response: httpx.Response) -> dict[tuple[Any, ...], str]:
    """The 422's messages by field path."""
    assert response.status_code == 422, response.text
    return {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}


FUTURE = "2030-01-01T00:00:00+00:00"
BAD_FIELDS: list[tuple[str, str, Any, tuple[str, ...], str]] = [
    ("POST", "/api/admin/incidents", {**INCIDENT, "severity": "apocalyptic"},
     ("body", "severity"), "'minor', 'moderate' or 'critical'"),
    ("POST", "/api/admin/incidents", {**INCIDENT, "started_at": FUTURE},
     ("body", "started_at"), "cannot start in the future"),
    ("POST", "/api/admin/incidents", {**INCIDENT, "cause": "aliens"},
     ("body", "cause"), "unknown cause 'aliens'"),
    ("POST", "/api/admin/incidents", {**INCIDENT, "name_en": "a\x00b"},
     ("body", "name_en"), "must not contain NUL"),
    ("POST", "/api/admin/incidents/1/updates",
     {"status": "identified", "body_ja": "ja", "body_en": "en", "components": {"nope": "major_outage"}},
     ("body", "components"), "unknown component(s): nope"),
    ("POST", "/api/admin/maintenance", {**WINDOW, "scheduled_end": WINDOW["scheduled_start"]},
     ("body", "scheduled_end"), "must be after scheduled_start"),
    ("POST", "/api/admin/tokens", {"name": "ci", "role": "viewer", "expires": "soon"},
     ("body", "expires"), "is not a duration"),
    ("PUT", "/api/admin/components/nope/override", {"status": "major_outage", "reason": "halt"},
     ("path", "component_id"), "unknown component(s): nope"),
    ("GET", "/api/admin/alerts?component=nope", None, ("query", "component"), "unknown component"),
    ("GET", "/api/admin/reports?component=logn", None, ("query", "component"), "did you mean 'login'"),
]  # fmt: skip


async def test_a_bad_field_is_a_422_naming_its_path_and_what_is_wrong(seeded: SeededApi) -> None:
    for method, path, body, loc, says in BAD_FIELDS:
        errors = field_errors(await call(seeded, method, path, body))
        assert loc in errors, (path, errors)
        assert says in errors[loc], (path, errors)
        assert documented(seeded, method, path, 422), path


async def test_an_unknown_id_is_a_404_naming_it(seeded: SeededApi) -> None:
    cases = [
        ("GET", f"/api/admin/incidents/{UNKNOWN}", "error"),
        ("POST", f"/api/admin/incidents/{UNKNOWN}/ack", "error"),
        ("GET", f"/api/admin/incidents/{UNKNOWN}/timeline", "error"),
        ("GET", f"/api/admin/maintenance/{UNKNOWN}", "detail"),
        ("POST", f"/api/admin/maintenance/{UNKNOWN}/cancel", "detail"),
        ("POST", f"/api/admin/deliveries/{UNKNOWN}/retry", "detail"),
        ("DELETE", f"/api/admin/tokens/{UNKNOWN}", "detail"),
        ("DELETE", f"/api/admin/subscribers/{UNKNOWN}", "error"),
    ]
    for method, path, key in cases:
        response = await call(seeded, method, path)
        assert response.status_code == 404, (path, response.text)
        assert str(UNKNOWN) in response.json()[key], (path, response.text)
        assert documented(seeded, method, path, 404), path


async def test_a_transition_the_state_does_not_allow_is_a_409_with_the_reason(
    seeded: SeededApi,
) -> None:
    ids = seeded.ids
    cases = [
        ("POST", f"/api/admin/incidents/{ids.resolved_incident}/resolve", "error",
         f"incident #{ids.resolved_incident} is already resolved"),
        ("POST", f"/api/admin/incidents/{ids.acked_incident}/ack", "error",
         f"incident #{ids.acked_incident} is already acknowledged"),
        ("POST", f"/api/admin/maintenance/{ids.windows['completed']}/cancel", "detail",
         f"cannot cancel maintenance #{ids.windows['completed']}: it is already completed"),
        ("POST", f"/api/admin/maintenance/{ids.windows['scheduled']}/complete", "detail",
         f"cannot complete maintenance #{ids.windows['scheduled']}"),
        ("POST", f"/api/admin/deliveries/{ids.sent_delivery}/retry", "detail",
         f"delivery {ids.sent_delivery} is sent, not dead"),
    ]  # fmt: skip
    for method, path, key, reason in cases:
        response = await call(seeded, method, path)
        assert response.status_code == 409, (path, response.text)
        assert reason in response.json()[key], (path, response.text)
        assert documented(seeded, method, path, 409), path
