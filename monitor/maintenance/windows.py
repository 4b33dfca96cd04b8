"""The lifecycle of one maintenance window: announce, start, complete, extend, cancel, edit.

Each transition runs inside the caller's transaction, checks that the window's state allows it
(else ConflictError, with the reason), and appends one timeline event naming the window, what changed
and who did it ("admin" or "engine"). Those events are the intents the notifiers deliver.

Components follow through the alert book: a window in progress mutes its components, so the
status is set before the components are refreshed on start, and after them on the end.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.maintenance.errors import ConflictError, InvalidFieldError
from monitor.storage.maintenance import (
    MaintenanceRow,
    occurrence_at,
    replace_components,
    update_maintenance,
)
from monitor.storage.timeline import append_event
from probes import format_duration

ON_TIME = timedelta(minutes=1)  # closer than this to the plan counts as on schedule
_OPEN = ("scheduled", "in_progress")
_STATE_WORDS = {
    "scheduled": "has not started",
    "in_progress": "is in progress",
    "completed": "is already completed",
    "cancelled": "was cancelled",
}


class ComponentRefresher(Protocol):
    """Recomputes a component's status from its alerts, override and maintenance."""

    async def refresh_component(
        self, session: AsyncSession, component_id: str, at: datetime, *, force: bool = False
    ) -> bool:
        """Refresh one component; ``force`` re-runs the incident rules (a window just ended)."""
        ...


@dataclass(frozen=True, slots=True)
class WindowChanges:
    """An edit of a window; None leaves a field as it is."""

    name_ja: str | None = None
    name_en: str | None = None
    body_ja: str | None = None
    body_en: str | None = None
    components: tuple[str, ...] | None = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None

    def text(self, window: MaintenanceRow) -> dict[str, str]:
        """Return the names and bodies that differ from ``window``'s."""
        changed: dict[str, str] = {}
        for name in ("name_ja", "name_en", "body_ja", "body_en"):
            value = getattr(self, name)
            if value is not None and value != getattr(window, name):
                changed[name] = value
        return changed

    def is_empty(self) -> bool:
        """True when no field is given."""
        return all(getattr(self, f.name) is None for f in fields(self))


def iso(at: datetime) -> str:
    """Return ``at`` as an ISO 8601 UTC string (the timeline's JSON)."""
    return at.astimezone(UTC).isoformat()


def timing(verb: str, at: datetime, planned: datetime) -> str:
    """Say how ``at`` compares with the plan: "started on schedule", "ended 30m late"."""
    offset = (at - planned).total_seconds()
    if abs(offset) < ON_TIME.total_seconds():
        return f"{verb} on schedule"
    minutes = round(abs(offset) / 60) * 60
    return f"{verb} {format_duration(minutes)} {'late' if offset > 0 else 'early'}"


def require(window: MaintenanceRow, allowed: tuple[str, ...], action: str, hint: str = "") -> None:
    """Raise ConflictError unless the window's status is one of ``allowed``."""
    if window.status not in allowed:
        words = _STATE_WORDS.get(window.status, f"is {window.status}")
        raise ConflictError(f"cannot {action} maintenance #{window.id}: it {words}{hint}")


async def announce(session: AsyncSession, window: MaintenanceRow, *, at: datetime) -> None:
    """Record the advance notice of a scheduled window, once."""
    require(window, ("scheduled",), "announce")
    if window.announced_at is not None:
        return
    await update_maintenance(
        session=session, maintenance_id=window.id, values={"announced_at": at}, at=at
    )
    starts_in = format_duration(max(0, round((window.scheduled_start - at).total_seconds())))
    await append_event(
        session=session, at=at, kind="maintenance_announced", maintenance_id=window.id,
        reason=f"starts in {starts_in}", data=summary(window), actor="engine",
    )  # fmt: skip


async def start(
    session: AsyncSession,
    refresher: ComponentRefresher,
    window: MaintenanceRow,
    *,
    at: datetime,
    actor: str,
) -> None:
    """Put a window in progress; its components go under maintenance."""
    require(window, ("scheduled",), "start")
    values = {"status": "in_progress", "started_at": at}
    await update_maintenance(session=session, maintenance_id=window.id, values=values, at=at)
    data = {
        **summary(window),
        "started_at": iso(at),
        "offset_s": _offset(at, window.scheduled_start),
    }
    await append_event(
        session=session, at=at, kind="maintenance_started", maintenance_id=window.id,
        reason=timing("started", at, window.scheduled_start), data=data, actor=actor,
    )  # fmt: skip
    for component_id in window.components:  # after the status: in progress is what mutes
        await refresher.refresh_component(session, component_id, at)


async def complete(
    session: AsyncSession,
    refresher: ComponentRefresher,
    window: MaintenanceRow,
    *,
    at: datetime,
    actor: str,
) -> None:
    """End a window in progress; alerts still firing on its components now count."""
    require(window, ("in_progress",), "complete", hint=_complete_hint(window))
    values = {"status": "completed", "ended_at": at}
    await update_maintenance(session=session, maintenance_id=window.id, values=values, at=at)
    data = {**summary(window), "ended_at": iso(at), "offset_s": _offset(at, window.scheduled_end)}
    await append_event(
        session=session, at=at, kind="maintenance_completed", maintenance_id=window.id,
        reason=timing("ended", at, window.scheduled_end), data=data, actor=actor,
    )  # fmt: skip
    for component_id in window.components:  # force: an alert held back may open its incident
        await refresher.refresh_component(session, component_id, at, force=True)


async def extend(
    session: AsyncSession, window: MaintenanceRow, *, new_end: datetime, at: datetime, actor: str
) -> None:
    """Move a window's end later."""
    require(window, _OPEN, "extend")
    if new_end <= window.scheduled_end:
        raise InvalidFieldError(
            "scheduled_end",
            f"must be later than the current end {iso(window.scheduled_end)}; "
            "to end earlier, complete the window or edit its times",
        )
    _require_future_end(new_end, at)
    await update_maintenance(
        session=session, maintenance_id=window.id, values={"scheduled_end": new_end}, at=at
    )
    await _record_extension(session, window, new_end=new_end, at=at, actor=actor)


async def cancel(
    session: AsyncSession,
    window: MaintenanceRow,
    *,
    at: datetime,
    actor: str,
    reason: str | None = None,
) -> None:
    """Call off a window that has not started."""
    require(window, ("scheduled",), "cancel", hint=_cancel_hint(window))
    await update_maintenance(
        session=session, maintenance_id=window.id, values={"status": "cancelled"}, at=at
    )
    await append_event(
        session=session, at=at, kind="maintenance_cancelled", maintenance_id=window.id,
        reason=reason or "cancelled", data=summary(window), actor=actor,
    )  # fmt: skip


async def edit(
    session: AsyncSession,
    refresher: ComponentRefresher,
    window: MaintenanceRow,
    changes: WindowChanges,
    *,
    at: datetime,
    actor: str,
    announce_ahead: timedelta,
) -> None:
    """Change a window's text, components or times; each kind of change is recorded."""
    text = changes.text(window)
    components = _component_change(window, changes)
    start, end = _new_times(window, changes, at)
    await _check_series_slot(session, window, start)
    values: dict[str, Any] = {**text}
    if (start, end) != (window.scheduled_start, window.scheduled_end):
        values |= {"scheduled_start": start, "scheduled_end": end}
        if start != window.scheduled_start and start > at + announce_ahead:
            values["announced_at"] = None  # announced again when the new start comes near
    if values or components is not None:
        await update_maintenance(session=session, maintenance_id=window.id, values=values, at=at)
    if components is not None:
        await replace_components(
            session=session, maintenance_id=window.id, component_ids=components
        )
    await _record_edit(session, window, text, components, at=at, actor=actor)
    await _record_times(session, window, start, end, at=at, actor=actor)
    if components is not None and window.status == "in_progress":
        await _refresh_moved(session, refresher, window.components, components, at)


def _component_change(window: MaintenanceRow, changes: WindowChanges) -> tuple[str, ...] | None:
    if changes.components is None or set(changes.components) == set(window.components):
        return None
    require(window, _OPEN, "change the components of")
    return changes.components


def _new_times(
    window: MaintenanceRow, changes: WindowChanges, at: datetime
) -> tuple[datetime, datetime]:
    start = changes.scheduled_start or window.scheduled_start
    end = changes.scheduled_end or window.scheduled_end
    if start != window.scheduled_start:
        require(window, ("scheduled",), "move the start of")
    if end != window.scheduled_end:
        require(window, _OPEN, "move the end of")
        _require_future_end(end, at)
    if end <= start and changes.scheduled_end is None:
        raise InvalidFieldError("scheduled_start", f"must be before scheduled_end ({iso(end)})")
    if end <= start:
        raise InvalidFieldError("scheduled_end", f"must be after scheduled_start ({iso(start)})")
    return start, end


def _require_future_end(end: datetime, at: datetime) -> None:
    if end <= at:
        raise InvalidFieldError(
            "scheduled_end", f"{iso(end)} is in the past; to end the window now, complete it"
        )


async def _check_series_slot(
    session: AsyncSession, window: MaintenanceRow, start: datetime
) -> None:
    if window.series_id is None or start == window.scheduled_start:
        return
    other = await occurrence_at(session=session, series_id=window.series_id, start=start)
    if other is not None:
        raise ConflictError(
            f"cannot move maintenance #{window.id} to {iso(start)}: "
            f"maintenance #{other} of the same series starts then"
        )


async def _record_edit(
    session: AsyncSession,
    window: MaintenanceRow,
    text: dict[str, str],
    components: tuple[str, ...] | None,
    *,
    at: datetime,
    actor: str,
) -> None:
    if not text and components is None:
        return
    data: dict[str, Any] = {"fields": sorted(text)}
    if components is not None:
        data["components"] = {
            "added": sorted(set(components) - set(window.components)),
            "removed": sorted(set(window.components) - set(components)),
        }
        data["fields"].append("components")
    await append_event(
        session=session, at=at, kind="maintenance_updated", maintenance_id=window.id,
        reason=f"changed {', '.join(data['fields'])}", data=data, actor=actor,
    )  # fmt: skip


async def _record_times(
    session: AsyncSession,
    window: MaintenanceRow,
    start: datetime,
    end: datetime,
    *,
    at: datetime,
    actor: str,
) -> None:
    if start == window.scheduled_start and end == window.scheduled_end:
        return
    if start == window.scheduled_start and end > window.scheduled_end:
        await _record_extension(session, window, new_end=end, at=at, actor=actor)
        return
    data = {
        "from": {"scheduled_start": iso(window.scheduled_start), "scheduled_end": iso(window.scheduled_end)},
        "to": {"scheduled_start": iso(start), "scheduled_end": iso(end)},
    }  # fmt: skip
    reason = f"now {iso(start)} to {iso(end)}"
    await append_event(
        session=session, at=at, kind="maintenance_rescheduled", maintenance_id=window.id,
        reason=reason, data=data, actor=actor,
    )  # fmt: skip


async def _record_extension(
    session: AsyncSession, window: MaintenanceRow, *, new_end: datetime, at: datetime, actor: str
) -> None:
    longer = format_duration(round((new_end - window.scheduled_end).total_seconds()))
    data = {"from": iso(window.scheduled_end), "to": iso(new_end)}
    await append_event(
        session=session, at=at, kind="maintenance_extended", maintenance_id=window.id,
        reason=f"extended by {longer} to {iso(new_end)}", data=data, actor=actor,
    )  # fmt: skip


async def _refresh_moved(
    session: AsyncSession,
    refresher: ComponentRefresher,
    before: tuple[str, ...],
    after: tuple[str, ...],
    at: datetime,
) -> None:
    """Refresh the components a window in progress took on or let go of."""
    for component_id in sorted(set(after) - set(before)):
        await refresher.refresh_component(session, component_id, at)
    for component_id in sorted(set(before) - set(after)):
        await refresher.refresh_component(session, component_id, at, force=True)


def summary(window: MaintenanceRow) -> dict[str, Any]:
    """Return what every event about a window carries: its names, times and components."""
    return {
        "name_en": window.name_en,
        "name_ja": window.name_ja,
        "scheduled_start": iso(window.scheduled_start),
        "scheduled_end": iso(window.scheduled_end),
        "components": list(window.components),
        "series_id": window.series_id,
    }


def _offset(at: datetime, planned: datetime) -> float:
    return (at - planned).total_seconds()


def _complete_hint(window: MaintenanceRow) -> str:
    return "; cancel it instead" if window.status == "scheduled" else ""


def _cancel_hint(window: MaintenanceRow) -> str:
    return "; complete it instead" if window.status == "in_progress" else ""
