"""Config for what happens after an alert: incident lifecycle, escalation, flapping, inputs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from monitor.config.common import FailureStatus, Identifier, Strict
from monitor.domain import Severity
from probes import Duration

Target = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_.@+-]*(:[A-Za-z0-9_.@+-]+)?$",
        max_length=120,
        description="who is paged: a person or channel name, e.g. 'sre-primary' or 'email:oncall@example.com'",
    ),
]


PerSeverity = dict[Severity, float | None]
_DEFAULTS: dict[str, dict[str, float | None]] = {
    "resolve_after": {"minor": 300.0, "moderate": 600.0, "critical": 900.0},
    "time_budget": {"minor": 4 * 3600.0, "moderate": 2 * 3600.0, "critical": None},
    "update_every": {"minor": 7200.0, "moderate": 3600.0, "critical": 1800.0},
}


def _defaults(name: str) -> PerSeverity:
    return {Severity(k): v for k, v in _DEFAULTS[name].items()}


class IncidentPolicy(Strict):
    """How incidents open, group, resolve, reopen and rise by themselves."""

    group_window: Duration = Field(
        default=300.0,
        description="an alert of a related component within this long of an incident's start joins it",
    )
    resolve_after: dict[Severity, Duration | None] = Field(
        default_factory=lambda: _defaults("resolve_after"),
        description="recovered this long, the incident resolves itself; null: only a human resolves",
    )
    reopen_window: Duration = Field(
        default=1800.0,
        description="the same alert firing again this soon after a resolve reopens the incident",
    )
    time_budget: dict[Severity, Duration | None] = Field(
        default_factory=lambda: _defaults("time_budget"),
        description="unresolved this long in a class, the incident rises one class",
    )
    update_every: dict[Severity, Duration | None] = Field(
        default_factory=lambda: _defaults("update_every"),
        description="remind responders when no public update was posted for this long",
    )

    @field_validator("resolve_after", "time_budget", "update_every", mode="before")
    @classmethod
    def _merge_defaults(cls, given: object, info: ValidationInfo) -> object:
        # Naming one class in the file keeps the defaults of the others.
        if not isinstance(given, dict):
            return given
        return {**_DEFAULTS[info.field_name or ""], **given}


class EscalationLevel(Strict):
    """One step of an escalation: whom to page, and how long to wait for an ack before the next."""

    targets: tuple[Target, ...] = Field(min_length=1)
    wait: Duration = Field(
        default=600.0, description="unacknowledged this long, page the next level (or repeat)"
    )

    @field_validator("wait")
    @classmethod
    def _at_least_a_minute(cls, value: float) -> float:
        if value < 60:
            raise ValueError("must be at least 1m (paging faster only wakes people twice)")
        return value


class Escalation(Strict):
    """Escalation levels per severity; a severity without levels pages nobody."""

    levels: dict[Severity, tuple[EscalationLevel, ...]] = Field(default_factory=dict)


class Flapping(Strict):
    """More than ``changes`` alert state changes within ``window`` mark the alert flapping."""

    changes: int = Field(default=4, ge=2, le=100)
    window: Duration = Field(default=900.0)


class Matcher(Strict):
    """Route Alertmanager alerts whose labels all equal these values to a component."""

    labels: dict[str, str] = Field(min_length=1)
    component: Identifier
    on_failure: FailureStatus = "major_outage"


class AlertmanagerInput(Strict):
    """How Alertmanager alerts map to components: the ``component`` label, then matchers."""

    component_label: str = Field(default="component", min_length=1)
    status_label: str = Field(
        default="exwatch_status", min_length=1, description="label naming the component status"
    )
    matchers: tuple[Matcher, ...] = ()


class UserReports(Strict):
    """When problem reports from the public open a minor alert, and how fast one client may post."""

    threshold: int = Field(default=5, ge=1, le=10_000, description="reports for one component …")
    window: Duration = Field(default=600.0, description="… within this long open an alert")
    per_client: int = Field(default=5, ge=1, le=1000, description="reports one client may send …")
    per_client_window: Duration = Field(default=3600.0, description="… within this long")


class MaintenancePolicy(Strict):
    """When maintenance is announced, and how far ahead recurring windows are scheduled."""

    announce_ahead: Duration = Field(
        default=86400.0, description="announce a window this long before it starts"
    )
    schedule_ahead: Duration = Field(
        default=14 * 86400.0,
        description="create the occurrences of recurring windows this far ahead",
    )
