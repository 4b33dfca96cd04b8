"""Maintenance windows and announced component statuses in the Statuspage v2 shapes (pure)."""

from __future__ import annotations

import json
from typing import Any

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.views import AffectedComponent, IncidentView, MaintenanceStatus, UpdateView
from statuspage import api_v2
from statuspage.snapshot import SnapshotStore
from tests.statuspage.support import (
    MAINTENANCE_KEYS,
    PAGE_KEYS,
    UPDATE_KEYS,
    component,
    hours,
    view,
    window,
)
from tests.support import START

SCHEDULED, IN_PROGRESS = MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS
COMPLETED, CANCELLED = MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED


def ids(items: list[dict[str, Any]]) -> list[str]:
    """Return the ids of Statuspage objects."""
    return [item["id"] for item in items]


def every_kind() -> Any:
    """Return a page with an upcoming, an active, a completed and a cancelled window."""
    return view(
        window(1, COMPLETED, START - hours(48)),
        window(2, IN_PROGRESS, START - hours(1)),
        window(3, SCHEDULED, START + hours(30)),
        window(4, SCHEDULED, START + hours(6)),
        window(5, CANCELLED, START + hours(3)),
    )


def test_a_maintenance_has_exactly_the_statuspage_fields() -> None:
    shown = view(window(2, IN_PROGRESS, START - hours(1), component_ids=("b", "gone", "a")))
    [item] = api_v2.scheduled_maintenances(shown, "en", only=api_v2.ACTIVE)
    assert set(item) == MAINTENANCE_KEYS
    assert item["id"] == "m2" and item["name"] == "Maintenance 2"
    assert item["status"] == "in_progress" and item["impact"] == "maintenance"
    assert item["scheduled_for"] == "2026-11-21T17:00:00.000+09:00"
    assert item["scheduled_until"] == "2026-11-21T19:00:00.000+09:00"
    assert item["started_at"] == "2026-11-21T17:00:00.000+09:00"
    assert item["created_at"] == "2026-11-20T17:00:00.000+09:00"
    assert item["monitoring_at"] is None and item["resolved_at"] is None
    assert (
        item["page_id"] == "demo" and item["shortlink"] == "https://status.example/#maintenance-2"
    )
    listed = {c["id"]: c for c in api_v2.components(shown, "en")}
    assert item["components"] == [
        listed["b"],
        listed["a"],
    ]  # a component no longer shown is left out


def test_summary_lists_upcoming_and_active_soonest_first_and_never_a_cancelled_one() -> None:
    summary = api_v2.summary(every_kind(), "en")
    assert ids(summary["scheduled_maintenances"]) == ["m2", "m4", "m3"]
    assert [m["status"] for m in summary["scheduled_maintenances"]] == [
        "in_progress", "scheduled", "scheduled",
    ]  # fmt: skip


def test_upcoming_active_and_recent_split() -> None:
    shown = every_kind()
    assert ids(api_v2.scheduled_maintenances(shown, "en", only=api_v2.UPCOMING)) == ["m4", "m3"]
    assert ids(api_v2.scheduled_maintenances(shown, "en", only=api_v2.ACTIVE)) == ["m2"]
    assert ids(api_v2.scheduled_maintenances(shown, "en")) == ["m3", "m4", "m2", "m1"]


def test_the_full_list_holds_the_fifty_latest() -> None:
    shown = view(*(window(n, COMPLETED, START - hours(n)) for n in range(1, 61)))
    listed = ids(api_v2.scheduled_maintenances(shown, "en"))
    assert listed == [f"m{n}" for n in range(1, 51)]


def test_updates_are_synthesized_from_the_windows_life() -> None:
    shown = every_kind()
    by_id = {m["id"]: m for m in api_v2.scheduled_maintenances(shown, "ja")}
    upcoming, active, done = by_id["m4"], by_id["m2"], by_id["m1"]
    assert [u["status"] for u in upcoming["incident_updates"]] == ["scheduled"]
    assert [u["status"] for u in active["incident_updates"]] == ["in_progress", "scheduled"]
    assert [u["status"] for u in done["incident_updates"]] == [
        "completed",
        "in_progress",
        "scheduled",
    ]
    assert ids(done["incident_updates"]) == ["m1-completed", "m1-in_progress", "m1-scheduled"]
    for update in done["incident_updates"]:
        assert set(update) == UPDATE_KEYS
        assert update["incident_id"] == "m1" and update["affected_components"] is None
        assert update["created_at"] == update["updated_at"] == update["display_at"]
    scheduled = done["incident_updates"][-1]
    assert scheduled["body"] == "本文1" and scheduled["created_at"] == done["created_at"]
    assert done["incident_updates"][0]["created_at"] == done["resolved_at"]
    assert done["status"] == "completed" and done["resolved_at"] == "2026-11-19T20:00:00.000+09:00"
    assert "メンテナンス" in active["incident_updates"][0]["body"]


def test_update_ids_do_not_change_between_renders_or_languages() -> None:
    first = api_v2.scheduled_maintenances(every_kind(), "en")
    again = api_v2.scheduled_maintenances(every_kind(), "ja")
    assert [ids(m["incident_updates"]) for m in first] == [
        ids(m["incident_updates"]) for m in again
    ]
    every = [u for m in first for u in ids(m["incident_updates"])]
    assert len(every) == len(set(every))


def test_a_window_in_english_and_japanese() -> None:
    [ja] = api_v2.scheduled_maintenances(view(window(4, SCHEDULED, START)), "ja")
    [en] = api_v2.scheduled_maintenances(view(window(4, SCHEDULED, START)), "en")
    assert (ja["name"], en["name"]) == ("メンテナンス4", "Maintenance 4")
    assert (ja["components"][0]["name"], en["components"][0]["name"]) == ("a-ja", "a")


def incident_with(*announced: AffectedComponent) -> IncidentView:
    """Return an open incident whose only update announced ``announced`` (or nothing)."""
    update = UpdateView(
        7, 3, IncidentStatus.IDENTIFIED, {"ja": "停止中", "en": "Halted"}, START, announced or None
    )
    return IncidentView(
        3, {"ja": "停止", "en": "Halt"}, IncidentStatus.IDENTIFIED, Severity.CRITICAL, "why",
        START, START, START, None, None, ("a",), (update,),
    )  # fmt: skip


def test_announced_component_statuses_use_statuspage_words() -> None:
    announced = (
        AffectedComponent("a", ComponentStatus.MAJOR_OUTAGE),
        AffectedComponent("b", ComponentStatus.OPERATIONAL, ComponentStatus.PARTIAL_OUTAGE),
        AffectedComponent("retired", ComponentStatus.DEGRADED_PERFORMANCE),
    )
    shown = view(incidents=(incident_with(*announced),))
    [update] = api_v2.summary(shown, "ja")["incidents"][0]["incident_updates"]
    assert update["affected_components"] == [
        {"code": "a", "name": "a-ja", "old_status": None, "new_status": "major_outage"},
        {"code": "b", "name": "b-ja", "old_status": "partial_outage", "new_status": "operational"},
        {"code": "retired", "name": "retired", "old_status": None,
         "new_status": "degraded_performance"},
    ]  # fmt: skip


def test_an_update_that_announced_nothing_has_null_affected_components() -> None:
    [item] = api_v2.incidents(view(incidents=(incident_with(),)), "en")
    assert item["incident_updates"][0]["affected_components"] is None


def test_the_snapshot_serves_every_maintenance_document() -> None:
    store = SnapshotStore()
    store.publish(every_kind())

    def document(path: str) -> Any:
        rendered = store.get(path, "en")
        assert rendered is not None, path
        return json.loads(rendered.body)

    everything = document("/api/v2/scheduled-maintenances.json")
    assert (
        set(everything) == {"page", "scheduled_maintenances"}
        and set(everything["page"]) == PAGE_KEYS
    )
    assert ids(everything["scheduled_maintenances"]) == ["m3", "m4", "m2", "m1"]
    upcoming = document("/api/v2/scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    active = document("/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert (ids(upcoming), ids(active)) == (["m4", "m3"], ["m2"])
    assert ids(document("/api/v2/summary.json")["scheduled_maintenances"]) == ["m2", "m4", "m3"]


def test_maintenance_changes_move_the_pages_updated_at() -> None:
    later = window(4, SCHEDULED, START + hours(6), updated_at=START + hours(2))
    assert api_v2.page(view(later))["updated_at"] == "2026-11-21T20:00:00.000+09:00"
    hidden = window(5, CANCELLED, START + hours(6), updated_at=START + hours(3))
    assert api_v2.page(view(hidden))["updated_at"] == "2026-11-21T18:00:00.000+09:00"


def test_components_without_an_override_message_are_unchanged_in_the_api() -> None:
    plain = api_v2.components(view(components=(component("a"),)), "en")
    message = {"ja": "停止中", "en": "Halted"}
    overridden = api_v2.components(view(components=(component("a", message=message),)), "en")
    assert plain == overridden
