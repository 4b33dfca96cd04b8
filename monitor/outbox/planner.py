"""The outbox planner: before a transaction commits, write the deliveries its events cause."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.outbox.routing import EMAIL, Routes
from monitor.outbox.subjects import Subject, subject_of
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.deliveries import plan_deliveries, plan_subscriber_deliveries
from monitor.storage.notice_reads import events_by_ids
from monitor.storage.timeline_reads import EventRow

log = logging.getLogger(__name__)


class OutboxPlanner:
    """Plans deliveries per event; hand ``plan`` to ``Database.plan_events_with``.

    The routes follow a reload: each plan uses the notifications config in force.
    """

    def __init__(self, config: ConfigSource) -> None:
        self._current_routes = live_config(config).derived(Routes)
        self.planned = 0  # deliveries written since start (a dispatcher may wake on it)

    async def plan(self, session: AsyncSession, event_ids: Sequence[int]) -> None:
        """Write the deliveries of every notifying event among ``event_ids``."""
        for event in await events_by_ids(session=session, ids=event_ids):
            subject = await subject_of(session, event)
            if subject is not None:
                self.planned += await self._plan_event(session, event, subject)

    async def _plan_event(self, session: AsyncSession, event: EventRow, subject: Subject) -> int:
        data = event.data or {}
        routes = self._current_routes()
        if subject.kind == "subscription_confirmation":
            subscriber_id = data.get("subscriber_id")
            planned = routes.confirmation(subscriber_id) if isinstance(subscriber_id, int) else None
            direct = [] if planned is None else [planned]
        else:
            targets = [str(t) for t in data.get("targets", [])]
            direct = list(routes.direct(subject, targets))
        await plan_deliveries(session=session, event_id=event.id, planned=direct, at=event.at)
        fanned = 0
        components = routes.subscriber_components(subject)
        if components is not None:
            fanned = await plan_subscriber_deliveries(
                session=session, event_id=event.id, channel=EMAIL,
                component_ids=components, at=event.at,
            )  # fmt: skip
        return len(direct) + fanned
