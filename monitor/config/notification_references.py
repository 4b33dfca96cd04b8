"""Checks that who is paged and what notifications name (webhooks, components) exist."""

from __future__ import annotations

from collections.abc import Iterator

from monitor.config.models import ConfigBase
from monitor.config.notifications import Filter


def notification_problems(config: ConfigBase) -> list[str]:
    """Return every broken reference of the notifications section as ``path: message``."""
    return [*_targets(config), *_responders(config), *_filters(config), *_duplicate_names(config)]


def _targets(config: ConfigBase) -> Iterator[str]:
    settings = config.notifications
    # With no channel set up, pages are only recorded: names need not resolve to anything.
    if settings.email is None and not settings.webhooks:
        return
    hooks = {w.name for w in settings.webhooks}
    for severity, levels in config.escalation.levels.items():
        for i, level in enumerate(levels):
            for j, target in enumerate(level.targets):
                problem = _target_problem(target, hooks, set(settings.responders), config)
                if problem:
                    yield f"escalation.levels.{severity}[{i}].targets[{j}]: {problem}"


def _target_problem(
    target: str, hooks: set[str], responders: set[str], config: ConfigBase
) -> str | None:
    kind, _, value = target.partition(":")
    if value and kind == "webhook":
        return None if value in hooks else f"no webhook named {value!r} in notifications.webhooks"
    if value and kind == "email":
        return None if config.notifications.email else "paging by email needs notifications.email"
    if value:
        return f"unknown target kind {kind!r} (use a responder name, email:… or webhook:…)"
    if target not in responders:
        return f"unknown responder {target!r}: add it to notifications.responders"
    return None


def _responders(config: ConfigBase) -> Iterator[str]:
    settings = config.notifications
    hooks = {w.name for w in settings.webhooks}
    for name, responder in settings.responders.items():
        if responder.webhook is not None and responder.webhook not in hooks:
            yield f"notifications.responders.{name}.webhook: no webhook named {responder.webhook!r}"
        if responder.email is not None and settings.email is None:
            yield f"notifications.responders.{name}.email: paging by email needs notifications.email"


def _filters(config: ConfigBase) -> Iterator[str]:
    settings = config.notifications
    named: list[tuple[str, Filter]] = []
    if settings.email is not None:
        named.append(("notifications.email.subscribers", settings.email.subscribers))
    if settings.x is not None:
        named.append(("notifications.x.filter", settings.x.filter))
    if settings.grafana is not None:
        named.append(("notifications.grafana.filter", settings.grafana.filter))
    named += [
        (f"notifications.webhooks[{i}].filter", w.filter) for i, w in enumerate(settings.webhooks)
    ]
    components = {c.id for c in config.components}
    for path, rule in named:
        for k, component in enumerate(rule.components):
            if component not in components:
                yield f"{path}.components[{k}]: unknown component {component!r}"


def _duplicate_names(config: ConfigBase) -> Iterator[str]:
    settings = config.notifications
    for section, names in (
        ("webhooks", [w.name for w in settings.webhooks]),
        ("x.accounts", [a.name for a in settings.x.accounts] if settings.x else []),
    ):
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                yield f"notifications.{section}[{i}].name: duplicate name {name!r}"
            seen.add(name)
