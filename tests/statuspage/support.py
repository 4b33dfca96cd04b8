"""Builders for status page tests: read models by hand, and rows written straight into the tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.domain import ComponentStatus
from monitor.storage.tables import (
    component_groups,
    components,
    maintenance_components,
    maintenances,
)
from monitor.views import (
    ComponentView,
    GroupView,
    IncidentView,
    Localized,
    MaintenanceStatus,
    MaintenanceView,
    SiteView,
    StatusView,
)
from tests.support import START

SITE = SiteView("demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"))
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
INCIDENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
    "shortlink", "started_at", "page_id", "incident_updates", "components",
}  # fmt: skip
MAINTENANCE_KEYS = INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
UPDATE_KEYS = {
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
    "affected_components", "deliver_notifications", "custom_tweet", "tweet_id",
}  # fmt: skip
OVERRIDE_REASON = "halted by the CFO after the audit call (internal)"
HALT = {"ja": "取引を一時停止しています", "en": "Trading is halted"}


def hours(n: float) -> timedelta:
    """Return ``n`` hours."""
    return timedelta(hours=n)


def component(
    cid: str,
    status: ComponentStatus = ComponentStatus.OPERATIONAL,
    *,
    message: Localized | None = None,
) -> ComponentView:
    """Return a component of group ``g`` named ``cid`` (English) and ``cid-ja`` (Japanese)."""
    return ComponentView(
        cid, {"ja": cid + "-ja", "en": cid}, None, "g", status, 0, START, START, message
    )


def window(mid: int, status: MaintenanceStatus, start: datetime, **changes: Any) -> MaintenanceView:
    """Return a two-hour window on component ``a`` announced a day ahead, in ``status``."""
    started = (
        start if status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED) else None
    )
    fields: dict[str, Any] = {
        "id": mid,
        "names": {"ja": f"メンテナンス{mid}", "en": f"Maintenance {mid}"},
        "bodies": {"ja": f"本文{mid}", "en": f"Body {mid}"},
        "status": status,
        "scheduled_start": start,
        "scheduled_end": start + hours(2),
        "started_at": started,
        "ended_at": start + hours(2) if status == MaintenanceStatus.COMPLETED else None,
        "created_at": start - hours(24),
        "updated_at": start - hours(24),
        "component_ids": ("a",),
    }
    fields.update(changes)
    return MaintenanceView(**fields)


def view(
    *windows: MaintenanceView,
    components: tuple[ComponentView, ...] | None = None,
    incidents: tuple[IncidentView, ...] = (),
) -> StatusView:
    """Return a page with components ``a`` and ``b`` (unless given) in group ``g``."""
    shown = components if components is not None else (component("a"), component("b"))
    group = GroupView(
        "g", {"ja": "グループ", "en": "Group"}, 0, START, START, tuple(c.id for c in shown)
    )
    return StatusView(SITE, START, (group,), shown, incidents, windows)


async def insert_components(session: AsyncSession) -> None:
    """Write group ``g`` with ``a`` (position 2, a halt overridden by a responder) and ``b`` (1)."""
    stamps = {"created_at": START, "updated_at": START}
    await session.execute(
        insert(component_groups).values(
            id="g", name_ja="グループ", name_en="Group", position=0, **stamps
        )
    )
    common = {"group_id": "g", "impact_class": "trading", **stamps}
    halted = {
        "id": "a", "name_ja": "現物取引", "name_en": "Spot trading", "position": 2,
        "status": "major_outage", "alert_status": "operational", "override_status": "major_outage",
        "override_message_ja": HALT["ja"], "override_message_en": HALT["en"],
        "override_reason": OVERRIDE_REASON,
    }  # fmt: skip
    await session.execute(insert(components).values(**halted, **common))
    await session.execute(
        insert(components).values(id="b", name_ja="入金", name_en="Deposits", position=1, **common)
    )


async def insert_window(
    session: AsyncSession, *, status: str, start: datetime, component_ids: tuple[str, ...] = ("a",)
) -> int:
    """Write a two-hour window in ``status`` covering ``component_ids``; return its id."""
    running = status in ("in_progress", "completed")
    maintenance_id = await session.scalar(
        insert(maintenances)
        .returning(maintenances.c.id)
        .values(
            name_ja=f"{status}の作業",
            name_en=f"{status} work",
            body_ja="詳細",
            body_en="Details",
            status=status,
            scheduled_start=start,
            scheduled_end=start + hours(2),
            started_at=start if running else None,
            ended_at=start + hours(2) if status == "completed" else None,
            created_at=start - hours(24),
            updated_at=start - hours(24),
        )
    )
    await session.execute(
        insert(maintenance_components),
        [{"maintenance_id": maintenance_id, "component_id": cid} for cid in component_ids],
    )
    return int(maintenance_id)
