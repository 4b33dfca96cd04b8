"""One-off windows on SQLite and PostgreSQL: announce, start, complete; alerts held back; edits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.maintenance.errors import ConflictError, InvalidFieldError, NotFoundError
from monitor.maintenance.windows import WindowChanges
from monitor.storage.maintenance import NewSeries, insert_series
from monitor.storage.tables import alerts
from tests.maintenance.support import World
from tests.support import FAIL, OK

HOUR = timedelta(hours=1)
TRADING = ("trading-engine", "order-entry")


async def test_a_window_is_announced_started_and_completed(world: World) -> None:
    window = await world.window(starts_in=26 * HOUR, lasts=2 * HOUR, components=TRADING)
    await world.tick()
    assert await world.kinds(window.id) == ["maintenance_scheduled"]  # 26 h: not yet announced

    world.clock.advance(2 * 3600 + 1)
    await world.tick()
    await world.tick()
    announced = await world.maintenance.get(window.id)
    assert announced.announced_at == world.clock.now()
    assert await world.kinds(window.id) == ["maintenance_scheduled", "maintenance_announced"]
    assert await world.status("trading-engine") == "operational"

    await world.move_to(window.scheduled_start)
    started = await world.maintenance.get(window.id)
    assert (started.status, started.started_at) == ("in_progress", window.scheduled_start)
    assert await world.status("trading-engine") == "under_maintenance"
    assert await world.status("order-entry") == "under_maintenance"
    assert await world.status("btc-trading") == "operational"  # not in the window

    await world.move_to(window.scheduled_end)
    ended = await world.maintenance.get(window.id)
    assert (ended.status, ended.ended_at) == ("completed", window.scheduled_end)
    assert await world.status("trading-engine") == "operational"
    events = await world.events(window.id)
    assert [e.kind for e in events] == [
        "maintenance_scheduled", "maintenance_announced", "maintenance_started",
        "maintenance_completed",
    ]  # fmt: skip
    assert [e.actor for e in events] == ["admin", "engine", "engine", "engine"]
    assert events[2].reason == "started on schedule"
    assert events[3].reason == "ended on schedule"
    assert events[2].data["components"] == sorted(TRADING)


async def test_an_alert_during_maintenance_opens_no_incident_until_the_window_ends(
    world: World,
) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_start)
    await world.feed("trading-engine-check", FAIL, FAIL)
    assert await world.status("trading-engine") == "under_maintenance"
    assert await world.incident_count() == 0
    async with world.database.transaction() as s:
        [alert] = (await s.execute(select(alerts))).all()
    assert alert.status == "firing"  # recorded, held back
    assert alert.muted_reason == f"maintenance #{window.id}: Scheduled maintenance"

    await world.move_to(window.scheduled_end)  # still failing when the window ends
    assert await world.status("trading-engine") == "major_outage"
    assert await world.incident_count() == 1


async def test_an_alert_that_recovers_inside_the_window_leaves_nothing_behind(
    world: World,
) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_start)
    await world.feed("trading-engine-check", FAIL, FAIL, OK, OK)
    await world.move_to(window.scheduled_end)
    assert await world.status("trading-engine") == "operational"
    assert await world.incident_count() == 0


async def test_an_outage_outside_the_window_is_untouched(world: World) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_start)
    await world.feed("login-check", FAIL, FAIL)
    assert await world.status("login") == "major_outage"
    assert await world.incident_count() == 1


async def test_early_start_extension_and_late_completion_are_recorded(world: World) -> None:
    window = await world.window(starts_in=2 * HOUR, lasts=HOUR, components=TRADING)
    world.clock.advance(3600)
    started = await world.maintenance.start(window.id, actor="admin")
    assert started.status == "in_progress"
    assert await world.status("order-entry") == "under_maintenance"

    new_end = window.scheduled_end + 30 * timedelta(minutes=1)
    extended = await world.maintenance.extend(window.id, scheduled_end=new_end, actor="admin")
    assert extended.scheduled_end == new_end
    await world.move_to(window.scheduled_end)  # the old end: still in progress
    assert (await world.maintenance.get(window.id)).status == "in_progress"

    world.clock.current = new_end + timedelta(minutes=10)
    await world.maintenance.complete(window.id, actor="admin")
    events = await world.events(window.id)
    assert [(e.kind, e.actor, e.reason) for e in events[1:]] == [
        ("maintenance_started", "admin", "started 1h early"),
        ("maintenance_extended", "admin", f"extended by 30m to {new_end.isoformat()}"),
        ("maintenance_completed", "admin", "ended 10m late"),
    ]
    assert events[1].data["offset_s"] == -3600
    assert events[2].data == {
        "from": window.scheduled_end.isoformat(),
        "to": new_end.isoformat(),
    }
    assert await world.status("order-entry") == "operational"


async def test_a_cancelled_window_never_starts(world: World) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    cancelled = await world.maintenance.cancel(window.id, actor="admin", reason="vendor delay")
    assert cancelled.status == "cancelled"
    await world.move_to(window.scheduled_start)
    assert await world.status("trading-engine") == "operational"
    [_, event] = await world.events(window.id)
    assert (event.kind, event.actor, event.reason) == (
        "maintenance_cancelled",
        "admin",
        "vendor delay",
    )
    with pytest.raises(ConflictError, match=r"cannot start maintenance #\d+: it was cancelled"):
        await world.maintenance.start(window.id, actor="admin")


async def test_conflicting_transitions_say_why(world: World) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    with pytest.raises(ConflictError, match="has not started; cancel it instead"):
        await world.maintenance.complete(window.id, actor="admin")
    await world.maintenance.start(window.id, actor="admin")
    with pytest.raises(ConflictError, match="is in progress; complete it instead"):
        await world.maintenance.cancel(window.id, actor="admin")
    with pytest.raises(ConflictError, match=r"cannot start .*: it is in progress"):
        await world.maintenance.start(window.id, actor="admin")
    await world.maintenance.complete(window.id, actor="admin")
    with pytest.raises(ConflictError, match=r"cannot cancel .*: it is already completed"):
        await world.maintenance.cancel(window.id, actor="admin")
    with pytest.raises(ConflictError, match="cannot extend"):
        await world.maintenance.extend(
            window.id, scheduled_end=window.scheduled_end + HOUR, actor="admin"
        )
    with pytest.raises(NotFoundError, match="maintenance #999 does not exist"):
        await world.maintenance.start(999, actor="admin")


async def test_a_window_whose_end_has_passed_cannot_be_started_by_hand(world: World) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    world.clock.current = window.scheduled_end + timedelta(seconds=1)
    with pytest.raises(ConflictError, match="has passed; extend it first"):
        await world.maintenance.start(window.id, actor="admin")


async def test_a_window_missed_while_the_engine_was_down_starts_late_and_ends(
    world: World,
) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_end + 2 * HOUR)
    assert (await world.maintenance.get(window.id)).status == "completed"
    reasons = [e.reason for e in await world.events(window.id)]
    assert reasons[1:] == ["started 3h late", "ended 2h late"]
    assert await world.status("trading-engine") == "operational"


async def test_editing_text_components_and_times_is_recorded(world: World) -> None:
    window = await world.window(starts_in=30 * HOUR, lasts=HOUR, components=TRADING)
    world.clock.advance(7 * 3600)
    await world.tick()  # announced: it starts within 24 h
    moved = window.scheduled_start + 48 * HOUR
    changes = WindowChanges(
        name_en="Matching engine upgrade", components=("trading-engine", "login"),
        scheduled_start=moved, scheduled_end=moved + 2 * HOUR,
    )  # fmt: skip
    edited = await world.maintenance.edit(window.id, changes, actor="admin")
    assert edited.name_en == "Matching engine upgrade"
    assert edited.components == ("login", "trading-engine")
    assert edited.announced_at is None  # moved beyond the notice period: announced again later
    events = await world.events(window.id)
    assert [e.kind for e in events][-2:] == ["maintenance_updated", "maintenance_rescheduled"]
    assert events[-2].data == {
        "fields": ["name_en", "components"],
        "components": {"added": ["login"], "removed": ["order-entry"]},
    }
    assert events[-1].data["to"] == {
        "scheduled_start": moved.isoformat(),
        "scheduled_end": (moved + 2 * HOUR).isoformat(),
    }


async def test_components_taken_off_a_window_in_progress_leave_maintenance(world: World) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_start)
    await world.feed("order-entry-check", FAIL, FAIL)
    assert await world.incident_count() == 0
    changes = WindowChanges(components=("trading-engine", "login"))
    await world.maintenance.edit(window.id, changes, actor="admin")
    assert await world.status("login") == "under_maintenance"
    assert await world.status("order-entry") == "major_outage"  # held-back alert now counts
    assert await world.incident_count() == 1
    with pytest.raises(ConflictError, match=r"cannot move the start of .*: it is in progress"):
        await world.maintenance.edit(
            window.id, WindowChanges(scheduled_start=world.clock.now()), actor="admin"
        )


async def test_edits_refuse_times_that_cannot_be(world: World) -> None:
    window = await world.window(starts_in=3 * HOUR, lasts=HOUR, components=TRADING)
    before_start = WindowChanges(scheduled_end=window.scheduled_start - HOUR)
    with pytest.raises(InvalidFieldError, match="must be after scheduled_start") as caught:
        await world.maintenance.edit(window.id, before_start, actor="admin")
    assert caught.value.field == "scheduled_end"
    after_end = WindowChanges(scheduled_start=window.scheduled_end + HOUR)
    with pytest.raises(InvalidFieldError, match="must be before scheduled_end") as caught:
        await world.maintenance.edit(window.id, after_end, actor="admin")
    assert caught.value.field == "scheduled_start"
    in_the_past = WindowChanges(scheduled_end=world.clock.now() - HOUR)
    with pytest.raises(InvalidFieldError, match="is in the past; to end the window now"):
        await world.maintenance.edit(window.id, in_the_past, actor="admin")
    with pytest.raises(InvalidFieldError, match="must be later than the current end"):
        await world.maintenance.extend(window.id, scheduled_end=window.scheduled_start, actor="a")
    with pytest.raises(InvalidFieldError, match="unknown component"):
        await world.maintenance.edit(window.id, WindowChanges(components=("nope",)), actor="a")
    assert await world.kinds(window.id) == ["maintenance_scheduled"]  # nothing half-done


async def test_a_restart_in_the_middle_of_a_window_carries_on(world: World) -> None:
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_start)
    await world.feed("trading-engine-check", FAIL, FAIL)
    again = await world.restart()
    assert await again.status("trading-engine") == "under_maintenance"
    await again.move_to(window.scheduled_end)
    assert (await again.maintenance.get(window.id)).status == "completed"
    assert await again.status("trading-engine") == "major_outage"
    assert await again.incident_count() == 1
    assert (await again.kinds(window.id)).count("maintenance_started") == 1


async def test_a_broken_series_does_not_stop_the_clock(world: World) -> None:
    async with world.services.engine.exclusive() as session:
        broken = NewSeries(
            cron="not a cron", time_zone="UTC", duration_s=60.0, name_ja="x", name_en="x",
            body_ja="", body_en="", components=("login",),
        )  # fmt: skip
        await insert_series(session=session, new=broken, at=world.clock.now())
    window = await world.window(starts_in=HOUR, lasts=HOUR, components=TRADING)
    await world.move_to(window.scheduled_start)
    assert (await world.maintenance.get(window.id)).status == "in_progress"
