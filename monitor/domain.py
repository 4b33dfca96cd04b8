"""The vocabulary of DESIGN.md as enums: component status, impact class, severity, states."""

from __future__ import annotations

from enum import StrEnum


class ComponentStatus(StrEnum):
    """A component's public status, in Statuspage's words so existing clients work."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def rank(self) -> int:
        """Return how bad the status is: operational 0 … major_outage 4."""
        return _STATUS_RANK[self]


_STATUS_RANK = {status: rank for rank, status in enumerate(ComponentStatus)}
FAILURE_STATUSES = (
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


def worst_status(statuses: list[ComponentStatus]) -> ComponentStatus:
    """Return the worst of ``statuses``, operational when empty."""
    return max(statuses, key=lambda status: status.rank, default=ComponentStatus.OPERATIONAL)


class ImpactClass(StrEnum):
    """What a component's failure touches, which decides severity (DESIGN.md)."""

    TRADING = "trading"
    ASSETS = "assets"
    ACCESS = "access"
    INFORMATION = "information"


class Severity(StrEnum):
    """An incident's class: minor, moderate or critical (seed 004 §1)."""

    MINOR = "minor"
    MODERATE = "moderate"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return 0 for minor, 1 for moderate, 2 for critical."""
        return list(Severity).index(self)

    @property
    def impact(self) -> str:
        """Return the Statuspage ``impact`` for this severity."""
        return {"minor": "minor", "moderate": "major", "critical": "critical"}[self.value]


class IncidentStatus(StrEnum):
    """Where an incident is in its lifecycle."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class AlertState(StrEnum):
    """Per-check alert state: ok → pending → firing → recovering → ok."""

    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    RECOVERING = "recovering"

    @property
    def is_open(self) -> bool:
        """True while the alert counts against its component (firing or recovering)."""
        return self in (AlertState.FIRING, AlertState.RECOVERING)


class CauseCategory(StrEnum):
    """Why an incident happened (seed 001 ch.1); ``security`` is always critical."""

    SYSTEM = "system"
    SECURITY = "security"
    EXTERNAL = "external"
    MAINTENANCE = "maintenance"


CAUSE_DETAILS: dict[CauseCategory, tuple[str, ...]] = {
    CauseCategory.SYSTEM: ("server", "network", "database", "software"),
    CauseCategory.SECURITY: ("unauthorized_access", "ddos", "malware"),
    CauseCategory.EXTERNAL: ("regulation", "market_volatility", "disaster"),
    CauseCategory.MAINTENANCE: (),
}


def parse_cause(text: str) -> tuple[CauseCategory, str | None]:
    """Split "security/ddos" into its category and detail; raise ValueError naming what is wrong."""
    category_text, _, detail = text.partition("/")
    try:
        category = CauseCategory(category_text)
    except ValueError:
        known = ", ".join(c.value for c in CauseCategory)
        raise ValueError(f"unknown cause {category_text!r} (one of {known})") from None
    if detail and detail not in CAUSE_DETAILS[category]:
        allowed = ", ".join(CAUSE_DETAILS[category]) or "none"
        raise ValueError(f"unknown {category} cause {detail!r} (one of {allowed})")
    return category, detail or None
