"""The maintenance admin API over HTTP: token, CRUD, transitions, 404/409/422 with reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from monitor.admin.auth import AccessGuard
from monitor.maintenance import build_maintenance_router
from tests.maintenance.support import AUTH, TOKEN, World

HOUR = timedelta(hours=1)


def app_for(world: World, token: str | None = TOKEN) -> FastAPI:
    app = FastAPI()
    access = AccessGuard(world.database, world.clock, admin_token=token)
    app.include_router(build_maintenance_router(world.maintenance, access))
    return app


@pytest.fixture
def app(world: World) -> FastAPI:
    return app_for(world)


async def call(
    app: FastAPI, method: str, path: str, *, auth: bool = True, **kwargs: Any
) -> httpx.Response:
    headers = AUTH if auth else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        return await client.request(method, path, headers=headers, **kwargs)


def one_off(world: World, **overrides: Any) -> dict[str, Any]:
    start = world.clock.now() + 2 * HOUR
    body: dict[str, Any] = {
        "name_ja": "メンテナンス", "name_en": "Maintenance", "body_ja": "本文", "body_en": "Body",
        "components": ["trading-engine", "order-entry"],
        "scheduled_start": start.isoformat(), "scheduled_end": (start + HOUR).isoformat(),
    }  # fmt: skip
    return {**body, **overrides}


def field_of(response: httpx.Response) -> str:
    """Return the field a 422 names."""
    assert response.status_code == 422, response.text
    return str(response.json()["detail"][0]["loc"][-1])


async def test_every_route_needs_the_token(world: World, app: FastAPI) -> None:
    for method, path in [
        ("GET", "/api/admin/maintenance"),
        ("POST", "/api/admin/maintenance"),
        ("GET", "/api/admin/maintenance/1"),
        ("PATCH", "/api/admin/maintenance/1"),
        ("POST", "/api/admin/maintenance/1/start"),
        ("POST", "/api/admin/maintenance/1/cancel"),
        ("GET", "/api/admin/maintenance/series"),
        ("POST", "/api/admin/maintenance/series"),
        ("DELETE", "/api/admin/maintenance/series/1"),
    ]:
        response = await call(app, method, path, auth=False, json={})
        assert response.status_code == 401, (method, path)
    wrong = {"authorization": "Bearer nope"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/api/admin/maintenance", headers=wrong)).status_code == 401
    off = app_for(world, token=None)
    assert (await call(off, "GET", "/api/admin/maintenance")).status_code == 503


async def test_a_one_off_window_through_its_lifecycle(world: World, app: FastAPI) -> None:
    created = await call(app, "POST", "/api/admin/maintenance", json=one_off(world))
    assert created.status_code == 201, created.text
    window = created.json()
    assert window["status"] == "scheduled"
    assert window["components"] == ["order-entry", "trading-engine"]
    path = f"/api/admin/maintenance/{window['id']}"
    assert (await call(app, "GET", path)).json() == window

    started = await call(app, "POST", f"{path}/start")
    assert started.json()["status"] == "in_progress"
    assert await world.status("trading-engine") == "under_maintenance"
    new_end = (world.clock.now() + 5 * HOUR).isoformat()
    extended = await call(app, "POST", f"{path}/extend", json={"scheduled_end": new_end})
    assert extended.status_code == 200, extended.text
    completed = await call(app, "POST", f"{path}/complete")
    assert completed.json()["status"] == "completed"
    assert await world.status("trading-engine") == "operational"

    listed = await call(app, "GET", "/api/admin/maintenance", params={"status": "completed"})
    assert [w["id"] for w in listed.json()] == [window["id"]]
    none = await call(app, "GET", "/api/admin/maintenance", params={"status": "scheduled"})
    assert none.json() == []
    events = await world.events(window["id"])
    assert [(e.kind, e.actor) for e in events] == [
        ("maintenance_scheduled", "admin"), ("maintenance_started", "admin"),
        ("maintenance_extended", "admin"), ("maintenance_completed", "admin"),
    ]  # fmt: skip


async def test_edit_and_cancel(world: World, app: FastAPI) -> None:
    window = (await call(app, "POST", "/api/admin/maintenance", json=one_off(world))).json()
    path = f"/api/admin/maintenance/{window['id']}"
    later = world.clock.now() + 3 * HOUR
    edited = await call(
        app, "PATCH", path,
        json={"body_en": "New body", "scheduled_end": (later + HOUR).isoformat()},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert edited.json()["body_en"] == "New body"
    cancelled = await call(app, "POST", f"{path}/cancel", json={"reason": "not needed"})
    assert cancelled.json()["status"] == "cancelled"
    bare = (await call(app, "POST", "/api/admin/maintenance", json=one_off(world))).json()
    no_body = await call(app, "POST", f"/api/admin/maintenance/{bare['id']}/cancel")
    assert no_body.json()["status"] == "cancelled"
    kinds = await world.kinds(window["id"])
    assert kinds == [
        "maintenance_scheduled", "maintenance_updated", "maintenance_extended",
        "maintenance_cancelled",
    ]  # fmt: skip


async def test_conflicts_answer_409_with_the_reason(world: World, app: FastAPI) -> None:
    window = (await call(app, "POST", "/api/admin/maintenance", json=one_off(world))).json()
    path = f"/api/admin/maintenance/{window['id']}"
    assert (await call(app, "POST", f"{path}/cancel")).status_code == 200
    started = await call(app, "POST", f"{path}/start")
    assert started.status_code == 409
    assert started.json()["detail"] == (
        f"cannot start maintenance #{window['id']}: it was cancelled"
    )

    other = (await call(app, "POST", "/api/admin/maintenance", json=one_off(world))).json()
    other_path = f"/api/admin/maintenance/{other['id']}"
    await call(app, "POST", f"{other_path}/start")
    await call(app, "POST", f"{other_path}/complete")
    refused = await call(app, "POST", f"{other_path}/cancel")
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("it is already completed")
    moved = await call(app, "PATCH", other_path, json={"components": ["login"]})
    assert moved.status_code == 409


async def test_unknown_ids_answer_404(app: FastAPI) -> None:
    for method, path in [
        ("GET", "/api/admin/maintenance/999"),
        ("POST", "/api/admin/maintenance/999/start"),
        ("POST", "/api/admin/maintenance/999/complete"),
        ("POST", "/api/admin/maintenance/999/cancel"),
        ("PATCH", "/api/admin/maintenance/999"),
        ("GET", "/api/admin/maintenance/series/999"),
        ("DELETE", "/api/admin/maintenance/series/999"),
    ]:
        body = {"name_en": "x"} if method == "PATCH" else None
        response = await call(app, method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert "does not exist" in response.json()["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"components": ["trading-engine", "nope"]}, "components"),
        ({"components": []}, "components"),
        ({"scheduled_end": "2026-11-21T08:00:00+00:00"}, "scheduled_end"),  # before the start
        ({"scheduled_start": "2026-11-21T12:00:00"}, "scheduled_start"),  # no time zone
        ({"name_en": ""}, "name_en"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_windows_answer_422_naming_the_field(
    world: World, app: FastAPI, overrides: dict[str, Any], field: str
) -> None:
    response = await call(app, "POST", "/api/admin/maintenance", json=one_off(world, **overrides))
    assert field_of(response) == field
    assert await world.kinds() == []


async def test_past_windows_bad_edits_and_filters_answer_422(world: World, app: FastAPI) -> None:
    past = one_off(
        world,
        scheduled_start=(world.clock.now() - 3 * HOUR).isoformat(),
        scheduled_end=(world.clock.now() - HOUR).isoformat(),
    )
    assert field_of(await call(app, "POST", "/api/admin/maintenance", json=past)) == "scheduled_end"
    window = (await call(app, "POST", "/api/admin/maintenance", json=one_off(world))).json()
    path = f"/api/admin/maintenance/{window['id']}"
    earlier = {"scheduled_end": window["scheduled_start"]}
    assert field_of(await call(app, "POST", f"{path}/extend", json=earlier)) == "scheduled_end"
    assert field_of(await call(app, "PATCH", path, json=earlier)) == "scheduled_end"
    assert field_of(await call(app, "PATCH", path, json={})) == "body"
    status = await call(app, "GET", "/api/admin/maintenance", params={"status": "done"})
    assert field_of(status) == "status"
    assert field_of(await call(app, "GET", "/api/admin/maintenance/abc")) == "maintenance_id"
    huge = await call(app, "GET", f"/api/admin/maintenance/{10**30}")
    assert field_of(huge) == "maintenance_id"
    filtered = await call(app, "GET", "/api/admin/maintenance", params={"series_id": "x"})
    assert field_of(filtered) == "series_id"


async def test_series_over_http(world: World, app: FastAPI) -> None:
    body = {
        "name_ja": "週次", "name_en": "Weekly", "components": ["login"],
        "cron": "0 3 * * 0", "duration": "2h",
    }  # fmt: skip
    created = await call(app, "POST", "/api/admin/maintenance/series", json=body)
    assert created.status_code == 201, created.text
    series = created.json()
    assert (series["time_zone"], series["duration_s"], series["active"]) == (
        "Asia/Tokyo", 7200.0, True,
    )  # the site's time zone by default  # fmt: skip
    windows = await call(app, "GET", "/api/admin/maintenance", params={"series_id": series["id"]})
    assert len(windows.json()) == 2
    assert [s["id"] for s in (await call(app, "GET", "/api/admin/maintenance/series")).json()] == [
        series["id"]
    ]
    stopped = await call(app, "DELETE", f"/api/admin/maintenance/series/{series['id']}")
    assert stopped.json()["active"] is False
    again = await call(app, "DELETE", f"/api/admin/maintenance/series/{series['id']}")
    assert again.status_code == 409
    for bad, field in [
        ({"cron": "0 3 * * 0 *"}, "cron"),
        ({"time_zone": "Nowhere/City"}, "time_zone"),
        ({"duration": "0s"}, "duration"),
        ({"duration": "soon"}, "duration"),
    ]:
        response = await call(app, "POST", "/api/admin/maintenance/series", json={**body, **bad})
        assert field_of(response) == field, bad
