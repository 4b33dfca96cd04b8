"""Which component an Alertmanager alert marks, how badly, and why: labels and config matchers.

The ``component`` label names the component; failing that, the first config matcher whose
labels all match does. The status comes from the ``exwatch_status`` label, else the matcher's
explicit ``on_failure``, else the ``severity`` label (advice only), else ``major_outage``.
Every decision carries its reason in words, for the timeline.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from monitor.config.policies import AlertmanagerInput, Matcher
from monitor.domain import FAILURE_STATUSES, ComponentStatus, parse_cause

SEVERITY_LABEL = "severity"
CAUSE_LABEL = "cause"
SEVERITY_STATUS = {
    "critical": ComponentStatus.MAJOR_OUTAGE,
    "warning": ComponentStatus.PARTIAL_OUTAGE,
    "info": ComponentStatus.DEGRADED_PERFORMANCE,
}
MAX_SUMMARY = 1000


@dataclass(frozen=True, slots=True)
class Route:
    """Where an alert goes: the component, the status it sets, and the reasons for both."""

    component_id: str
    routed_by: str
    failure_status: ComponentStatus
    status_from: str


@dataclass(frozen=True, slots=True)
class Unrouted:
    """An alert that maps to no component, and why."""

    reason: str


def route_alert(
    labels: dict[str, str], config: AlertmanagerInput, components: Collection[str]
) -> Route | Unrouted:
    """Map an alert's labels to a component and a failure status."""
    named = labels.get(config.component_label)
    matcher = _first_match(labels, config.matchers)
    if named is not None and named in components:
        component_id, routed_by = named, f"label {config.component_label}={named!r}"
    elif matcher is not None:
        index, found = matcher
        component_id, routed_by = found.component, f"alertmanager.matchers[{index}]"
    else:
        return Unrouted(_why_unrouted(named, config, components))
    explicit = None
    if matcher is not None and matcher[1].component == component_id:
        explicit = matcher
    status, status_from = _failure_status(labels, config.status_label, explicit)
    return Route(component_id, routed_by, status, status_from)


def _first_match(
    labels: dict[str, str], matchers: tuple[Matcher, ...]
) -> tuple[int, Matcher] | None:
    for index, matcher in enumerate(matchers):
        if all(labels.get(name) == value for name, value in matcher.labels.items()):
            return index, matcher
    return None


def _why_unrouted(named: str | None, config: AlertmanagerInput, components: Collection[str]) -> str:
    if named is None:
        return f"no {config.component_label!r} label and no alertmanager.matchers entry matches"
    message = f"label {config.component_label}={named!r} names no component"
    close = difflib.get_close_matches(named, sorted(components), n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _failure_status(
    labels: dict[str, str], status_label: str, matcher: tuple[int, Matcher] | None
) -> tuple[ComponentStatus, str]:
    given = labels.get(status_label)
    if given in FAILURE_STATUSES:
        return ComponentStatus(given), f"label {status_label}={given!r}"
    # A matcher's default on_failure says nothing: only one written in the config outranks
    # the severity label.
    if matcher is not None and "on_failure" in matcher[1].model_fields_set:
        index, found = matcher
        return ComponentStatus(found.on_failure), f"alertmanager.matchers[{index}].on_failure"
    severity = labels.get(SEVERITY_LABEL, "").lower()
    if severity in SEVERITY_STATUS:
        return SEVERITY_STATUS[severity], f"label {SEVERITY_LABEL}={severity!r}"
    return ComponentStatus.MAJOR_OUTAGE, "default for an alert without a status or severity"


def alert_cause(labels: dict[str, str]) -> str | None:
    """Return the cause category a ``cause`` label names ("security/ddos" → "security")."""
    text = labels.get(CAUSE_LABEL)
    if text is None:
        return None
    try:
        category, _ = parse_cause(text)
    except ValueError:
        return None  # an unknown cause is advice we cannot use, not a reason to refuse the alert
    return category.value


def alert_summary(labels: dict[str, str], annotations: dict[str, str]) -> str:
    """Return the alert's one-line summary: annotation summary or description, else alertname."""
    for text in (
        annotations.get("summary"),
        annotations.get("description"),
        labels.get("alertname"),
    ):
        if text is not None and text.strip():
            return clean_text(text.strip())[:MAX_SUMMARY]
    return "alert from Alertmanager"


def clean_text(text: str) -> str:
    """Return ``text`` without NUL characters, which PostgreSQL text cannot hold."""
    return text.replace("\0", "")
