"""What raising an alert needs, whatever its source: a check, Alertmanager or user reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.domain import ComponentStatus


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to raise: which component it marks, how badly, and where it came from."""

    fingerprint: str
    component_id: str
    failure_status: ComponentStatus
    summary: str
    source: str = "check"  # check | alertmanager | user_reports
    check_id: str | None = None
    labels: dict[str, str] | None = None
    episode: str | None = None  # Alertmanager's startsAt: fingerprint + episode is one firing
    cause: str | None = None  # a cause category the source knows (e.g. "security")
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def moves_status(self) -> bool:
        """False for user reports: unverified, they open a minor incident but never set a status."""
        return self.source != "user_reports"
