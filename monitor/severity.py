"""Severity: DESIGN.md's policy table plus its rules, every decision with its reason in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config.models import SeverityPolicy
from monitor.domain import ComponentStatus, ImpactClass, Severity


@dataclass(frozen=True, slots=True)
class ComponentFacts:
    """What the policy needs to know about one component."""

    id: str
    name: str
    impact_class: ImpactClass
    group_id: str | None
    status: ComponentStatus


@dataclass(frozen=True, slots=True)
class Classification:
    """A severity and why, e.g. "critical: Trading engine is major_outage (impact class trading)"."""

    severity: Severity
    reason: str


def classify(
    affected: Sequence[ComponentFacts],
    everything: Sequence[ComponentFacts],
    policy: SeverityPolicy,
    cause: str = "system",
) -> Classification:
    """Return the highest severity any rule gives for the affected components and the cause."""
    candidates = [c for fact in affected if (c := _by_table(fact, policy)) is not None]
    if cause.partition("/")[0] == "security":
        # Unauthorized access or asset outflow is critical whatever the components show.
        candidates.append(Classification(Severity.CRITICAL, f"critical: the cause is {cause}"))
    candidates += [
        c for fact in affected if (c := _group_down(fact, everything, policy)) is not None
    ]
    if (count_rule := _major_outage_count(affected, policy)) is not None:
        candidates.append(count_rule)
    if not candidates:
        return Classification(Severity.MINOR, "minor: no affected component is failing now")
    return max(candidates, key=lambda c: c.severity.rank)


def one_class_up(severity: Severity) -> Severity:
    """Return the next class up (critical stays critical)."""
    ranked = list(Severity)
    return ranked[min(severity.rank + 1, len(ranked) - 1)]


def _by_table(fact: ComponentFacts, policy: SeverityPolicy) -> Classification | None:
    if fact.status in (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE):
        return None
    severity = policy.table[fact.impact_class][fact.status.value]  # type: ignore[index]
    reason = f"{severity}: {fact.name} is {fact.status} (impact class {fact.impact_class})"
    return Classification(severity, reason)


def _group_down(
    fact: ComponentFacts, everything: Sequence[ComponentFacts], policy: SeverityPolicy
) -> Classification | None:
    severity = policy.group_down.get(fact.impact_class)
    if severity is None or fact.status != ComponentStatus.MAJOR_OUTAGE or fact.group_id is None:
        return None
    peers = [
        c for c in everything if c.group_id == fact.group_id and c.impact_class == fact.impact_class
    ]
    if len(peers) < 2 or any(p.status != ComponentStatus.MAJOR_OUTAGE for p in peers):
        return None
    reason = (
        f"{severity}: every {fact.impact_class} component of group {fact.group_id} "
        f"({len(peers)}) is major_outage"
    )
    return Classification(severity, reason)


def _major_outage_count(
    affected: Sequence[ComponentFacts], policy: SeverityPolicy
) -> Classification | None:
    down = [c.name for c in affected if c.status == ComponentStatus.MAJOR_OUTAGE]
    if len(down) < policy.major_outage_count:
        return None
    reason = f"critical: {len(down)} components are major_outage ({', '.join(down)})"
    return Classification(Severity.CRITICAL, reason)
