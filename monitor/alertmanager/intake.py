"""Applying a webhook notification: each alert fires, resolves or changes nothing, idempotently.

An alert is one firing episode: its fingerprint plus its ``startsAt``. Alertmanager retries
and resends, and HA peers resend a firing even after its resolve (alertmanager#2447), so:

- a firing for an episode already seen changes nothing, whether it still fires or not;
- a firing with a newer ``startsAt`` than the episode that fires closes that one and opens
  the new one; one with an older ``startsAt``, or of an episode known to have ended, is a
  late resend and changes nothing;
- a resolve clears its own episode, or an older one still firing (Alertmanager holds one
  alert per fingerprint, so a newer episode means the older one ended).

A resolve for an episode never seen is stored as an ended alert, so a firing delivered after
its own resolve (the first firing lost, a peer's copy arriving late) does not open an alert that
nothing would ever resolve, even across a restart. Episodes known to have ended are also kept
in memory per fingerprint, so an even older episode's late firing changes nothing either.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alert_book import AlertBook, NewAlert
from monitor.alertmanager.payload import WebhookAlert, WebhookPayload
from monitor.alertmanager.routing import (
    SEVERITY_LABEL,
    Route,
    Unrouted,
    alert_cause,
    alert_summary,
    clean_text,
    route_alert,
)
from monitor.config import Config
from monitor.storage.alerts import (
    AlertRow,
    alert_by_episode,
    firing_alert,
    record_ended_episode,
)
from monitor.storage.timeline import append_event

SOURCE = "alertmanager"
Change = Literal["fired", "resolved", "unchanged"]
UnroutedKey = tuple[str, str, str]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Ignored:
    """An alert of the payload that maps to no component."""

    index: int
    alert: WebhookAlert
    reason: str

    @property
    def key(self) -> UnroutedKey:
        """Return what makes a resend of this alert the same: fingerprint, episode, status."""
        return (self.alert.alert_fingerprint, self.alert.episode, self.alert.status)

    def to_json(self) -> dict[str, Any]:
        """Return the alert as the response lists it."""
        return {
            "index": self.index,
            "fingerprint": self.alert.alert_fingerprint,
            "alertname": self.alert.labels.get("alertname"),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A payload split into alerts that map to a component and alerts that do not."""

    routed: list[tuple[WebhookAlert, Route]]
    ignored: list[Ignored]


@dataclass
class Outcome:
    """What one notification changed, and what to remember once it has committed."""

    fired: int = 0
    resolved: int = 0
    unchanged: int = 0
    ignored: list[Ignored] = field(default_factory=list)
    recorded: list[UnroutedKey] = field(default_factory=list)
    ended: dict[str, datetime] = field(default_factory=dict)

    def count(self, change: Change) -> None:
        """Count one alert's change."""
        setattr(self, change, getattr(self, change) + 1)

    def to_json(self) -> dict[str, Any]:
        """Return the 200 response body: counts, and the ignored alerts with their reasons."""
        return {
            "fired": self.fired,
            "resolved": self.resolved,
            "unchanged": self.unchanged,
            "ignored": len(self.ignored),
            "ignored_alerts": [item.to_json() for item in self.ignored],
        }


class Recent(Generic[K, V]):
    """The ``limit`` most recently written keys and their values."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._limit = limit

    def get(self, key: K) -> V | None:
        """Return the value of ``key``, if still remembered."""
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        """Remember ``key``, forgetting the oldest beyond the limit."""
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)


class Intake:
    """Turns webhook notifications into alerts through the alert book."""

    def __init__(self, book: AlertBook, config: Callable[[], Config]) -> None:
        self._book = book
        self._config = config  # read per payload: a config reload changes routing and components
        self._recorded: Recent[UnroutedKey, bool] = Recent()  # unrouted alerts on the timeline
        self._ended: Recent[str, datetime] = Recent()  # fingerprint → newest episode resolved

    def plan(self, payload: WebhookPayload) -> Plan:
        """Route every alert of ``payload`` (no database needed)."""
        routed: list[tuple[WebhookAlert, Route]] = []
        ignored: list[Ignored] = []
        config = self._config()
        components = {c.id for c in config.components}
        for index, alert in enumerate(payload.alerts):
            where = route_alert(alert.labels, config.alertmanager, components)
            if isinstance(where, Unrouted):
                ignored.append(Ignored(index, alert, where.reason))
            else:
                routed.append((alert, where))
        return Plan(routed, ignored)

    async def apply(self, session: AsyncSession, plan: Plan, at: datetime) -> Outcome:
        """Apply a planned notification inside the caller's transaction."""
        outcome = Outcome(ignored=plan.ignored)
        for alert, route in plan.routed:
            if alert.status == "resolved":
                outcome.count(await self._resolve(session, alert, route, at))
                fingerprint = stored_fingerprint(alert)
                ended = max(alert.starts_at, self._ended_at(fingerprint, outcome))
                outcome.ended[fingerprint] = ended
            else:
                outcome.count(await self._fire(session, alert, route, at, outcome=outcome))
        for item in plan.ignored:
            if self._recorded.get(item.key) is None and item.key not in outcome.recorded:
                await _record_unrouted(session, item, at)
                outcome.recorded.append(item.key)
        return outcome

    def committed(self, outcome: Outcome) -> None:
        """Remember what the outcome taught, once its transaction has committed."""
        for key in outcome.recorded:
            self._recorded.put(key, True)
        for fingerprint, start in outcome.ended.items():
            self._ended.put(fingerprint, start)

    def _ended_at(self, fingerprint: str, outcome: Outcome) -> datetime:
        """Return the start of the newest episode of ``fingerprint`` known to have ended."""
        known = [outcome.ended.get(fingerprint), self._ended.get(fingerprint)]
        return max((start for start in known if start is not None), default=_NEVER)

    async def _fire(
        self,
        session: AsyncSession,
        alert: WebhookAlert,
        route: Route,
        at: datetime,
        *,
        outcome: Outcome,
    ) -> Change:
        fingerprint = stored_fingerprint(alert)
        seen = await alert_by_episode(
            session=session, fingerprint=fingerprint, episode=alert.episode
        )
        if seen is not None or alert.starts_at <= self._ended_at(fingerprint, outcome):
            return "unchanged"  # a resend of an episode known, or known to have ended
        firing = await firing_alert(session=session, fingerprint=fingerprint)
        if firing is not None:
            if _started(firing) > alert.starts_at:
                return "unchanged"  # a late resend of an older episode
            reason = f"Alertmanager reports a new firing of this alert, started {alert.episode}"
            await self._book.clear(session, firing, at, reason)
        await self._book.fire(session, _new_alert(alert, route, fingerprint), at)
        return "fired"

    async def _resolve(
        self, session: AsyncSession, alert: WebhookAlert, route: Route, at: datetime
    ) -> Change:
        fingerprint = stored_fingerprint(alert)
        seen = await alert_by_episode(
            session=session, fingerprint=fingerprint, episode=alert.episode
        )
        if seen is not None:
            row = seen[0] if seen[1] == "firing" else None
        else:
            # The episode's firing never reached us: remember that it ended, in the database,
            # so its late firing (alertmanager#2447) changes nothing even after a restart.
            await record_ended_episode(
                session=session, fingerprint=fingerprint, episode=alert.episode,
                component_id=route.component_id, failure_status=route.failure_status,
                summary=alert_summary(alert.labels, alert.annotations), at=at,
            )  # fmt: skip
            # An older episode still firing ended before this one began.
            row = await firing_alert(session=session, fingerprint=fingerprint)
            if row is not None and _started(row) > alert.starts_at:
                row = None  # a newer episode fires: this resolve is late
        if row is None:
            return "unchanged"
        await self._book.clear(session, row, at, _resolve_reason(alert))
        return "resolved"


_NEVER = datetime.min.replace(tzinfo=UTC)


def stored_fingerprint(alert: WebhookAlert) -> str:
    """Return the fingerprint exwatch stores for an Alertmanager alert."""
    return f"{SOURCE}:{alert.alert_fingerprint}"


def _started(alert: AlertRow) -> datetime:
    """Return when an Alertmanager alert's episode started (its startsAt)."""
    if alert.episode is None:
        return _NEVER  # not from Alertmanager: any episode is newer
    return datetime.fromisoformat(alert.episode)


def _resolve_reason(alert: WebhookAlert) -> str:
    if alert.ends_at is None or alert.ends_at.year == 1:  # 0001-01-01 is Go's "unset"
        return "resolved in Alertmanager"
    return f"resolved in Alertmanager (ended {alert.ends_at.isoformat()})"


def _new_alert(alert: WebhookAlert, route: Route, fingerprint: str) -> NewAlert:
    labels = {clean_text(name): clean_text(value) for name, value in alert.labels.items()}
    data: dict[str, Any] = {
        "starts_at": alert.episode,
        "routed_by": route.routed_by,
        "status_from": route.status_from,
    }
    if SEVERITY_LABEL in labels:
        data["severity_label"] = labels[SEVERITY_LABEL]  # advice; exwatch's policy decides
    if alert.generator_url:
        data["generator_url"] = clean_text(alert.generator_url)[:2000]
    return NewAlert(
        fingerprint=fingerprint,
        component_id=route.component_id,
        failure_status=route.failure_status,
        summary=alert_summary(labels, alert.annotations),
        source=SOURCE,
        labels=labels,
        episode=alert.episode,
        cause=alert_cause(labels),
        data={SOURCE: data},
    )


async def _record_unrouted(session: AsyncSession, item: Ignored, at: datetime) -> None:
    alert = item.alert
    await append_event(
        session=session,
        at=at,
        kind="alert_unrouted",
        reason=item.reason,
        actor=SOURCE,
        data={
            "fingerprint": alert.alert_fingerprint,
            "starts_at": alert.episode,
            "status": alert.status,
            "labels": {clean_text(k): clean_text(v) for k, v in alert.labels.items()},
        },
    )
