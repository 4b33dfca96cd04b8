"""Checks that the config's ids are unique and every reference points at something real."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from monitor.config.models import LOCAL_REGION, ConfigBase
from monitor.config.notification_references import notification_problems


def reference_problems(config: ConfigBase) -> list[str]:
    """Return every broken id or reference as ``path: message``."""
    problems: list[str] = []
    problems += _duplicates("groups", (g.id for g in config.groups))
    problems += _duplicates("components", (c.id for c in config.components))
    problems += _duplicates("checks", (c.id for c in config.checks))
    problems += _component_references(config)
    problems += _check_references(config)
    problems += _dependency_cycles(config)
    problems += _alertmanager_references(config)
    problems += notification_problems(config)
    return problems


def _duplicates(section: str, ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, item_id in enumerate(ids):
        if item_id in seen:
            problems.append(f"{section}[{index}].id: duplicate id {item_id!r}")
        seen.add(item_id)
    return problems


def _component_references(config: ConfigBase) -> list[str]:
    groups = {g.id for g in config.groups}
    components = {c.id for c in config.components}
    problems = []
    for i, component in enumerate(config.components):
        if component.group is not None and component.group not in groups:
            problems.append(f"components[{i}].group: {_unknown('group', component.group, groups)}")
        for j, parent in enumerate(component.depends_on):
            where = f"components[{i}].depends_on[{j}]"
            if parent == component.id:
                problems.append(f"{where}: a component cannot depend on itself")
            elif parent not in components:
                problems.append(f"{where}: {_unknown('component', parent, components)}")
    return problems


def _check_references(config: ConfigBase) -> list[str]:
    components = {c.id for c in config.components}
    problems = []
    for i, check in enumerate(config.checks):
        if check.component not in components:
            problems.append(
                f"checks[{i}].component: {_unknown('component', check.component, components)}"
            )
        if check.kind == "heartbeat" and tuple(check.regions) != (LOCAL_REGION,):
            problems.append(
                f"checks[{i}].regions: a heartbeat is received by exwatch itself: only 'local'"
            )
        if len(set(check.regions)) != len(check.regions):
            problems.append(f"checks[{i}].regions: a region is listed twice")
        if check.quorum is not None and check.quorum > len(check.regions):
            problems.append(
                f"checks[{i}].quorum: {check.quorum} is more than the {len(check.regions)} regions listed"
            )
        if check.timeout > check.interval:
            problems.append(
                f"checks[{i}].timeout: must not exceed the interval "
                f"({check.timeout:g}s > {check.interval:g}s)"
            )
    return problems


def _alertmanager_references(config: ConfigBase) -> list[str]:
    components = {c.id for c in config.components}
    routing = config.alertmanager
    problems = []
    if routing.component_label == routing.status_label:
        problems.append(
            "alertmanager.status_label: must differ from component_label "
            f"(both are {routing.status_label!r})"
        )
    for i, matcher in enumerate(routing.matchers):
        if matcher.component not in components:
            problems.append(
                f"alertmanager.matchers[{i}].component: "
                f"{_unknown('component', matcher.component, components)}"
            )
    return problems


def _dependency_cycles(config: ConfigBase) -> list[str]:
    parents = {c.id: set(c.depends_on) for c in config.components}
    problems = []
    for i, component in enumerate(config.components):
        if _reaches(parents, start=component.id, target=component.id):
            problems.append(
                f"components[{i}].depends_on: dependency cycle through {component.id!r}"
            )
    return problems


def _reaches(parents: dict[str, set[str]], start: str, target: str) -> bool:
    seen: set[str] = set()
    stack = [p for p in parents.get(start, ()) if p != start]
    while stack:
        node = stack.pop()
        if node == target:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(parents.get(node, ()))
    return False


def _unknown(what: str, name: str, known: set[str]) -> str:
    message = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message
