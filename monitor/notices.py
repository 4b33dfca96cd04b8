"""Notices: one timeline event as a notification tells it, the same for every channel.

monitor builds a Notice from the timeline (its event, incident or maintenance, and the public
text in both languages); the channels in ``notifiers`` only render and send it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from monitor.config.notifications import NoticeKind

Kind = NoticeKind | Literal["subscription_confirmation"]
"""What a notice is: a configurable notice kind, or the confirmation of a new subscription."""


@dataclass(frozen=True, slots=True)
class Text:
    """The same words in Japanese and English."""

    ja: str
    en: str

    def get(self, language: str) -> str:
        """Return the text in ``language`` ("ja" or "en"; anything else gives English)."""
        return self.ja if language == "ja" else self.en


STATUS_WORDS: dict[str, Text] = {
    "investigating": Text("調査中", "Investigating"),
    "identified": Text("原因特定", "Identified"),
    "monitoring": Text("経過観察中", "Monitoring"),
    "resolved": Text("解決済み", "Resolved"),
    "scheduled": Text("予定", "Scheduled"),
    "in_progress": Text("実施中", "In progress"),
    "completed": Text("完了", "Completed"),
    "cancelled": Text("中止", "Cancelled"),
}
"""Incident and maintenance statuses in both languages, as every channel words them."""


@dataclass(frozen=True, slots=True)
class ComponentRef:
    """A component named in a notice."""

    id: str
    names: Text


@dataclass(frozen=True, slots=True)
class IncidentInfo:
    """The incident a notice is about, as it stood when the notice is sent."""

    id: int
    title: Text
    severity: str
    status: str
    severity_reason: str
    components: tuple[ComponentRef, ...]
    url: str
    started_at: datetime
    resolved_at: datetime | None = None
    acknowledged_by: str | None = None


@dataclass(frozen=True, slots=True)
class MaintenanceInfo:
    """The maintenance window a notice is about."""

    id: int
    title: Text
    status: str
    starts_at: datetime
    ends_at: datetime
    components: tuple[ComponentRef, ...]
    url: str


@dataclass(frozen=True, slots=True)
class Notice:
    """One notifying timeline event; ``body`` is the public update text or the page's reason."""

    event_id: int
    kind: Kind
    at: datetime
    body: Text
    site_name: str
    site_url: str
    incident: IncidentInfo | None = None
    maintenance: MaintenanceInfo | None = None
    update_status: str | None = None  # investigating, identified, monitoring, resolved
    data: dict[str, str | int] = field(default_factory=dict)  # e.g. page level, old severity

    @property
    def severity(self) -> str | None:
        """The incident's severity, or None for maintenance notices."""
        return None if self.incident is None else self.incident.severity

    @property
    def component_ids(self) -> tuple[str, ...]:
        """The ids of the components the notice is about."""
        source = self.incident or self.maintenance
        return () if source is None else tuple(c.id for c in source.components)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives: ``address`` is an email address, an X account name or a webhook name."""

    key: str  # unique per channel and event, e.g. "subscriber:17", "account:ja", "webhook:ops"
    address: str
    language: str | None  # "ja" or "en"; None: both languages in one message


@dataclass(frozen=True, slots=True)
class Links:
    """Links a message may carry; each is set only where it applies."""

    unsubscribe_url: str | None = None  # one-click (RFC 8058) for subscriber mail
    manage_url: str | None = None
    ack_url: str | None = None  # signed, expiring, this incident only (pages)
    confirm_url: str | None = None  # double opt-in confirmation
