"""The config file's shape as pydantic models: site, groups, components, checks, severity."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from monitor.config.common import (
    LOCAL_REGION,
    FailureStatus,
    Identifier,
    Language,
    Strict,
)
from monitor.config.notifications import Notifications
from monitor.config.policies import (
    AlertmanagerInput,
    Escalation,
    Flapping,
    IncidentPolicy,
    MaintenancePolicy,
    UserReports,
)
from monitor.config.server import Server
from monitor.domain import ComponentStatus, ImpactClass, Severity
from probes import Duration, ProbeSpec

__all__ = ["LOCAL_REGION", "FailureStatus", "Identifier", "Language", "Strict"]


class Names(Strict):
    """A name in each language of the page."""

    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """Return the name in ``language`` (English when it is not ja)."""
        return self.ja if language == "ja" else self.en


def _known_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Asia/Tokyo)"
        ) from None
    return name


def _web_url(url: str) -> str:
    if not url.startswith(("https://", "http://", "/")) or url.startswith("//"):
        raise ValueError(f"{url!r} is not a web address (https://…, http://… or /path)")
    if any(c.isspace() or c in "\"'<>" for c in url):
        raise ValueError(f"{url!r} contains spaces, quotes or angle brackets")
    return url


WebUrl = Annotated[str, Field(max_length=500), AfterValidator(_web_url)]
HexColor = Annotated[
    str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="a colour as #rrggbb, e.g. #0052cc")
]


class Colors(Strict):
    """The page's colours; the page picks black or white text on them for contrast."""

    brand: HexColor | None = Field(default=None, description="header stripe and buttons")
    accent: HexColor | None = Field(default=None, description="focus rings")


class Site(Strict):
    """The status page's identity and branding."""

    id: Identifier = "exwatch"
    name: str = Field(min_length=1)
    url: str = Field(default="http://127.0.0.1:8080", description="public URL of the page")
    time_zone: Annotated[str, AfterValidator(_known_time_zone)] = "Asia/Tokyo"
    languages: tuple[Language, ...] = Field(default=("ja", "en"), min_length=1)
    logo_url: WebUrl | None = Field(default=None, description="logo shown in the header")
    colors: Colors = Colors()
    help_url: WebUrl | None = Field(
        default=None, description="the help centre, linked in the header"
    )
    x_url: WebUrl | None = Field(default=None, description="the X account, linked in the header")

    @property
    def default_language(self) -> Language:
        """The first language listed is the page's default."""
        return self.languages[0]


class Group(Strict):
    """A group of components on the page (e.g. Trading, Deposits & Withdrawals)."""

    id: Identifier
    names: Names


class Component(Strict):
    """Something the public sees, with the impact class that decides severity."""

    id: Identifier
    names: Names
    group: Identifier | None = None
    impact_class: ImpactClass
    depends_on: tuple[Identifier, ...] = ()
    description: Names | None = None


class CheckCommon(Strict):
    """Scheduling and alerting fields every check has, whatever its kind."""

    id: Identifier
    component: Identifier
    interval: Duration = 30.0
    failures_to_alert: int = Field(default=2, ge=1, le=100)
    successes_to_recover: int = Field(default=2, ge=1, le=100)
    on_failure: FailureStatus = Field(
        default="major_outage", description="the component's status while this check fails"
    )
    regions: tuple[Identifier, ...] = Field(
        default=(LOCAL_REGION,),
        min_length=1,
        description="where the check runs: 'local' is exwatch itself, others are agents",
    )
    quorum: int | None = Field(
        default=None, ge=1, description="regions that must fail to alert (default: a majority)"
    )
    flapping: Flapping = Field(default_factory=Flapping)

    @property
    def required_failures(self) -> int:
        """How many regions must be failing for the check's alert to fire."""
        return self.quorum if self.quorum is not None else len(self.regions) // 2 + 1

    @field_validator("interval")
    @classmethod
    def _at_least_one_second(cls, value: float) -> float:
        if value < 1:
            raise ValueError("must be at least 1s")
        return value


class CheckConfig(CheckCommon, ProbeSpec):
    """A check: the common fields plus one probe kind's spec (built per kind from the registry)."""

    @property
    def failure_status(self) -> ComponentStatus:
        """The component status this check sets while it fails."""
        return ComponentStatus(self.on_failure)


def _default_table() -> dict[ImpactClass, dict[FailureStatus, Severity]]:
    minor, moderate, critical = Severity.MINOR, Severity.MODERATE, Severity.CRITICAL
    return {
        ImpactClass.TRADING: _row(moderate, moderate, critical),
        ImpactClass.ASSETS: _row(moderate, moderate, moderate),
        ImpactClass.ACCESS: _row(minor, moderate, critical),
        ImpactClass.INFORMATION: _row(minor, minor, moderate),
    }


def _row(degraded: Severity, partial: Severity, major: Severity) -> dict[FailureStatus, Severity]:
    return {"degraded_performance": degraded, "partial_outage": partial, "major_outage": major}


class SeverityPolicy(Strict):
    """DESIGN.md's severity table and the rules on top of it; cells given override defaults."""

    table: dict[ImpactClass, dict[FailureStatus, Severity]] = Field(default_factory=_default_table)
    group_down: dict[ImpactClass, Severity] = Field(
        default_factory=lambda: {ImpactClass.ASSETS: Severity.CRITICAL},
        description="severity when every component of this class in a group is major_outage",
    )
    major_outage_count: int = Field(
        default=3, ge=1, description="this many components in major_outage make it critical"
    )

    @field_validator("table", mode="before")
    @classmethod
    def _merge_with_defaults(cls, given: object) -> object:
        if not isinstance(given, dict):
            return given
        merged: dict[Any, dict[Any, Any]] = {k: dict(v) for k, v in _default_table().items()}
        for impact_class, row in given.items():
            if not isinstance(row, dict):
                return given
            merged.setdefault(impact_class, {}).update(row)
        return merged


class Retention(Strict):
    """How long raw results, per-minute rollups and user problem reports are kept."""

    raw: Duration = Field(default=7 * 86400.0, description="raw probe results")
    rollup: Duration = Field(
        default=366 * 86400.0, description="per-minute rollups (uptime bars, charts)"
    )
    user_reports: Duration = Field(
        default=90 * 86400.0,
        description="problem reports from the public (they may hold contact details)",
    )

    @field_validator("raw", "rollup", "user_reports")
    @classmethod
    def _at_least_an_hour(cls, value: float) -> float:
        if value < 3600:
            raise ValueError("must be at least 1h")
        return value


class ConfigBase(Strict):
    """The whole config file; ``checks`` is narrowed per registry by ``config_model``."""

    site: Site
    groups: tuple[Group, ...] = ()
    components: tuple[Component, ...] = Field(min_length=1)
    checks: tuple[CheckConfig, ...] = ()
    severity: SeverityPolicy = Field(default_factory=SeverityPolicy)
    retention: Retention = Field(default_factory=Retention)
    incidents: IncidentPolicy = Field(default_factory=IncidentPolicy)
    escalation: Escalation = Field(default_factory=Escalation)
    alertmanager: AlertmanagerInput = Field(default_factory=AlertmanagerInput)
    user_reports: UserReports = Field(default_factory=UserReports)
    maintenance: MaintenancePolicy = Field(default_factory=MaintenancePolicy)
    notifications: Notifications = Field(default_factory=Notifications)
    server: Server = Field(default_factory=Server)
