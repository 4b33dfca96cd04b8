"""Recurring windows on SQLite and PostgreSQL: created ahead, once, across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.maintenance.errors import ConflictError, InvalidFieldError, NotFoundError
from monitor.maintenance.windows import WindowChanges
from monitor.storage.maintenance import NewSeries
from tests.maintenance.support import World

# The clock starts on Saturday 21 November 2026, 09:00 UTC (18:00 in Tokyo).
SUNDAY_3AM_TOKYO = [datetime(2026, 11, d, 18, 0, tzinfo=UTC) for d in (21, 28)] + [
    datetime(2026, 12, d, 18, 0, tzinfo=UTC) for d in (5, 12, 19)
]


def weekly(**overrides: object) -> NewSeries:
    fields: dict[str, object] = {
        "cron": "0 3 * * 0", "time_zone": "Asia/Tokyo", "duration_s": 7200.0,
        "name_ja": "週次メンテナンス", "name_en": "Weekly maintenance", "body_ja": "本文",
        "body_en": "Body", "components": ("trading-engine",),
    }  # fmt: skip
    return NewSeries(**{**fields, **overrides})  # type: ignore[arg-type]


async def starts(world: World, series_id: int) -> list[datetime]:
    return [w.scheduled_start for w in await world.maintenance.list_windows(series_id=series_id)]


async def test_a_series_creates_its_windows_ahead_and_once(world: World) -> None:
    series = await world.maintenance.create_series(weekly(), actor="admin")
    assert await starts(world, series.id) == SUNDAY_3AM_TOKYO[:2]  # within 14 days
    [first, _] = await world.maintenance.list_windows(series_id=series.id)
    assert first.scheduled_end - first.scheduled_start == timedelta(hours=2)
    assert first.components == ("trading-engine",)
    assert first.name_en == "Weekly maintenance"
    await world.tick()
    await world.tick()
    assert await starts(world, series.id) == SUNDAY_3AM_TOKYO[:2]

    again = await world.restart()  # a new process on the same database
    await again.tick()
    assert await starts(again, series.id) == SUNDAY_3AM_TOKYO[:2]
    world.clock.advance(7 * 86400)
    await again.tick()
    await (await again.restart()).tick()
    assert await starts(again, series.id) == SUNDAY_3AM_TOKYO[:3]
    kinds = await again.kinds()
    assert kinds.count("maintenance_series_created") == 1
    assert kinds.count("maintenance_scheduled") == 3


async def test_an_occurrence_runs_like_any_window(world: World) -> None:
    series = await world.maintenance.create_series(weekly(), actor="admin")
    [first, _] = await world.maintenance.list_windows(series_id=series.id)
    await world.tick()  # it starts within 24 h: announced
    assert (await world.maintenance.get(first.id)).announced_at == world.clock.now()
    await world.move_to(first.scheduled_start)
    assert await world.status("trading-engine") == "under_maintenance"
    await world.move_to(first.scheduled_end)
    assert await world.status("trading-engine") == "operational"
    assert await world.kinds(first.id) == [
        "maintenance_scheduled", "maintenance_announced", "maintenance_started",
        "maintenance_completed",
    ]  # fmt: skip


async def test_a_cancelled_or_moved_occurrence_is_not_created_again(world: World) -> None:
    series = await world.maintenance.create_series(weekly(), actor="admin")
    [first, second] = await world.maintenance.list_windows(series_id=series.id)
    await world.maintenance.cancel(first.id, actor="admin")
    moved = second.scheduled_start + timedelta(hours=5)
    changes = WindowChanges(scheduled_start=moved, scheduled_end=moved + timedelta(hours=2))
    await world.maintenance.edit(second.id, changes, actor="admin")
    world.clock.advance(3600)
    await world.tick()
    await (await world.restart()).tick()
    assert await starts(world, series.id) == [SUNDAY_3AM_TOKYO[0], moved]
    statuses = [w.status for w in await world.maintenance.list_windows(series_id=series.id)]
    assert statuses == ["cancelled", "scheduled"]


async def test_an_occurrence_cannot_be_moved_onto_another(world: World) -> None:
    series = await world.maintenance.create_series(weekly(), actor="admin")
    [first, second] = await world.maintenance.list_windows(series_id=series.id)
    onto = WindowChanges(scheduled_start=second.scheduled_start, scheduled_end=second.scheduled_end)
    with pytest.raises(ConflictError, match=f"maintenance #{second.id} of the same series"):
        await world.maintenance.edit(first.id, onto, actor="admin")


async def test_deactivating_a_series_cancels_what_has_not_started(world: World) -> None:
    series = await world.maintenance.create_series(weekly(), actor="admin")
    [first, *_] = await world.maintenance.list_windows(series_id=series.id)
    await world.move_to(first.scheduled_start)  # the tick also creates the third
    stopped = await world.maintenance.deactivate_series(series.id, actor="admin")
    assert not stopped.active
    [first, second, third] = await world.maintenance.list_windows(series_id=series.id)
    assert [w.status for w in (first, second, third)] == ["in_progress", "cancelled", "cancelled"]
    [cancelled] = (await world.events(second.id))[-1:]
    assert cancelled.reason == f"series #{series.id} was deactivated"
    world.clock.advance(30 * 86400)
    await world.tick()
    assert await starts(world, series.id) == SUNDAY_3AM_TOKYO[:3]
    with pytest.raises(ConflictError, match="already inactive"):
        await world.maintenance.deactivate_series(series.id, actor="admin")
    with pytest.raises(NotFoundError):
        await world.maintenance.deactivate_series(999, actor="admin")


async def test_a_new_york_series_follows_the_wall_clock_across_the_clock_change(
    world: World,
) -> None:
    world.clock.current = datetime(2026, 10, 28, tzinfo=UTC)
    new = weekly(cron="30 1 * * *", time_zone="America/New_York", duration_s=3600.0)
    series = await world.maintenance.create_series(new, actor="admin")
    found = await world.maintenance.list_windows(series_id=series.id)
    nov = [w.scheduled_start for w in found if w.scheduled_start.month == 11][:3]
    # 1:30 happens twice on 1 November: one window; EDT before, EST after.
    assert nov == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
        datetime(2026, 11, 3, 6, 30, tzinfo=UTC),
    ]
    assert len(found) == 14


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cron": "0 3 * *"}, "cron"),
        ({"cron": "0 3 1 * mon"}, "cron"),
        ({"cron": "* * * * *"}, "cron"),  # more than 1000 windows within 14 days
        ({"time_zone": "Tokyo"}, "time_zone"),
        ({"components": ("trading-engine", "nope")}, "components"),
    ],
)
async def test_unusable_series_are_refused_naming_the_field(
    world: World, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        await world.maintenance.create_series(weekly(**overrides), actor="admin")
    assert caught.value.field == field
    assert await world.maintenance.list_series() == []
