"""Builds the Notice a delivery sends from its event, as the incident or window stands now."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config import Config
from monitor.notices import ComponentRef, IncidentInfo, MaintenanceInfo, Notice, Text
from monitor.outbox.subjects import Subject, subject_of
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.maintenance import get_maintenance
from monitor.storage.notice_reads import events_by_ids
from monitor.storage.timeline_reads import EventRow, incident_record


@dataclass(frozen=True, slots=True)
class _Site:
    """What notices take from the config: the site's name and address, components' names."""

    name: str
    url: str
    names: dict[str, Text]

    @classmethod
    def of(cls, config: Config) -> _Site:
        """What notices need of ``config``."""
        names = {c.id: Text(c.names.ja, c.names.en) for c in config.components}
        return cls(config.site.name, config.site.url.rstrip("/"), names)


class NoticeReader:
    """Reads notices by event id; a fan-out of one event reads it once (a small cache).

    Names follow a reload (the config in force when a notice is read).
    """

    def __init__(self, config: ConfigSource, *, cache_size: int = 256) -> None:
        self._site = live_config(config).derived(_Site.of)
        self._cache: dict[int, Notice | None] = {}
        self._cache_size = cache_size

    async def notice(self, session: AsyncSession, event_id: int) -> Notice | None:
        """Return the notice of ``event_id``, or None if it no longer notifies anyone."""
        if event_id not in self._cache:
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[event_id] = await self._read(session, event_id)
        return self._cache[event_id]

    def forget(self) -> None:
        """Drop cached notices: the next read of each sees its incident as it is then."""
        self._cache.clear()

    async def _read(self, session: AsyncSession, event_id: int) -> Notice | None:
        events = await events_by_ids(session=session, ids=[event_id])
        if not events:
            return None
        event = events[0]
        subject = await subject_of(session, event)
        if subject is None:
            return None
        notice = Notice(
            event_id=event.id, kind=subject.kind, at=event.at, body=_body(event, subject),
            site_name=self._site().name, site_url=self._site().url,
            update_status=subject.update.status if subject.update else None,
            data=_scalars(event.data or {}),
        )  # fmt: skip
        if event.incident_id is not None:
            return await self._with_incident(session, notice, event.incident_id, subject)
        if event.maintenance_id is not None:
            return await self._with_maintenance(session, notice, event.maintenance_id)
        return notice

    async def _with_incident(
        self, session: AsyncSession, notice: Notice, incident_id: int, subject: Subject
    ) -> Notice | None:
        record = await incident_record(session=session, incident_id=incident_id)
        if record is None:
            return None
        info = IncidentInfo(
            id=record.id, title=Text(record.name_ja, record.name_en), severity=record.severity,
            status=record.status, severity_reason=record.severity_reason,
            components=self._components(subject.component_ids),
            url=f"{self._site().url}/incidents/{record.id}", started_at=record.started_at,
            resolved_at=record.resolved_at, acknowledged_by=record.acknowledged_by,
        )  # fmt: skip
        return replace(notice, incident=info)

    async def _with_maintenance(
        self, session: AsyncSession, notice: Notice, maintenance_id: int
    ) -> Notice | None:
        window = await get_maintenance(session=session, maintenance_id=maintenance_id)
        if window is None:
            return None
        info = MaintenanceInfo(
            id=window.id, title=Text(window.name_ja, window.name_en), status=window.status,
            starts_at=window.scheduled_start, ends_at=window.scheduled_end,
            components=self._components(window.components),
            url=f"{self._site().url}/maintenance/{window.id}",
        )  # fmt: skip
        body = Text(window.body_ja, window.body_en)
        return replace(notice, maintenance=info, body=body)

    def _components(self, ids: tuple[str, ...]) -> tuple[ComponentRef, ...]:
        names = self._site().names
        return tuple(ComponentRef(i, names.get(i, Text(i, i))) for i in ids)


def _body(event: EventRow, subject: Subject) -> Text:
    if subject.update is not None:
        return Text(subject.update.body_ja, subject.update.body_en)
    reason = event.reason or ""
    return Text(reason, reason)


def _scalars(data: dict[str, object]) -> dict[str, str | int]:
    return {k: v for k, v in data.items() if isinstance(v, str | int) and not isinstance(v, bool)}
