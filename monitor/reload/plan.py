"""What a reloaded config changes: the config to put in force, and the report of the change.

Most of the config applies live. What a running process built once from it (signed links,
the channels and their credentials, the retention job, per-client limiters, pages rendered in
the site's time zone) keeps the running value: the file's value waits for a restart and is
reported under ``restart_required``. The config put in force is therefore the file's, with
those fields taken from the running config, so it always says what is really in effect.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel

from monitor.config import Config
from monitor.config.references import reference_problems

RESTART_REQUIRED: tuple[str, ...] = (
    "site.url",  # in signed ack and subscription links, and in the channels' messages
    "site.logo_url",  # the Content-Security-Policy admits the logo's origin, set at start
    "site.languages",  # the subscription pages and the page's routes are built per language
    "site.time_zone",  # the admin timeline and the console render times in it
    "retention",  # the retention job
    "user_reports.per_client",  # the per-client limiter of problem reports
    "user_reports.per_client_window",
    "notifications.email.sender",  # the mail channel: its connections and templates
    "notifications.email.smtp",
    "notifications.email.templates_dir",
    "notifications.email.limits",
    "notifications.x.accounts",  # each account's credentials come from the environment
    "notifications.x.api_base_url",
    "notifications.x.limits",
    "notifications.webhooks",  # the webhook channel holds each hook's URL and secret
    "notifications.grafana.url",  # the Grafana channel holds its URL, token and tags
    "notifications.grafana.api_token_env",
    "notifications.grafana.dashboard_uid",
    "notifications.grafana.tags",
    "notifications.delivery",  # the dispatcher's retry policy
    "server",  # the trusted proxies: the per-client limits resolve addresses with them
)
"""Field paths that keep their running value until a restart."""

_LISTS = ("checks", "components", "groups")
_DEEPER = ("site", "notifications", "user_reports")  # reported field by field


class RestartNeededError(Exception):
    """The file is valid, but its live part does not fit the part that waits for a restart."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Changes:
    """Items of a list (checks, components, groups) by id: added, removed, changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, list[str]]:
        """The JSON shape of the reload answer."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
        }


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload applied, and what waits for a restart."""

    source: str
    checks: Changes = Changes()
    components: Changes = Changes()
    groups: Changes = Changes()
    sections: tuple[str, ...] = ()
    restart_required: tuple[str, ...] = ()
    applied: bool = field(default=False)

    def as_json(self) -> dict[str, Any]:
        """The answer of ``POST /api/admin/config/reload`` (and the timeline event's data)."""
        return {
            "source": self.source,
            "applied": self.applied,
            "checks": self.checks.as_json(),
            "components": self.components.as_json(),
            "groups": self.groups.as_json(),
            "sections": list(self.sections),
            "restart_required": list(self.restart_required),
        }


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    """The config to put in force and the report of what that changes."""

    config: Config
    report: ReloadReport


def plan_reload(running: Config, loaded: Config, *, source: str) -> ReloadPlan:
    """Return the config to put in force for file ``loaded`` and what it changes.

    Raises RestartNeededError when the live part of ``loaded`` refers to something only a
    restart brings (a new webhook a responder pages, say): nothing is applied then.
    """
    effective, waiting = _keep_running(running, loaded)
    problems = reference_problems(effective)
    if problems:
        raise RestartNeededError(
            [f"{p} (after keeping {', '.join(waiting)} until a restart)" for p in problems]
        )
    lists = {
        name: _list_changes(getattr(running, name), getattr(effective, name)) for name in _LISTS
    }
    reordered = tuple(f"{name}.order" for name in _LISTS if _reordered(running, effective, name))
    sections = reordered + tuple(_changed_sections(running, effective))
    report = ReloadReport(
        source=source, checks=lists["checks"], components=lists["components"],
        groups=lists["groups"], sections=sections, restart_required=tuple(waiting),
        applied=effective != running,
    )  # fmt: skip
    return ReloadPlan(effective, report)


def _keep_running(running: Config, loaded: Config) -> tuple[Config, list[str]]:
    """``loaded`` with every restart-required field that differs taken from ``running``."""
    effective: BaseModel = loaded
    waiting: list[str] = []
    for path in RESTART_REQUIRED:
        effective, kept = _pin(running, effective, path.split("."))
        if kept is not None:
            waiting.append(kept)
    return cast(Config, effective), waiting


def _pin(running: BaseModel, loaded: BaseModel, path: list[str]) -> tuple[BaseModel, str | None]:
    """``loaded`` with the value at ``path`` from ``running``; the path kept, if they differed.

    Where one side has no value on the way (no email channel before, one now), the whole
    value at that level is kept and reported.
    """
    head, rest = path[0], path[1:]
    if head not in type(loaded).model_fields:
        return loaded, None  # a section this build does not have
    old, new = getattr(running, head), getattr(loaded, head)
    if old == new:
        return loaded, None
    if rest and isinstance(old, BaseModel) and isinstance(new, BaseModel):
        value, kept = _pin(old, new, rest)
        return loaded.model_copy(update={head: value}), None if kept is None else f"{head}.{kept}"
    return loaded.model_copy(update={head: old}), head


def _list_changes(old: Iterable[Any], new: Iterable[Any]) -> Changes:
    before = {item.id: item for item in old}
    after = {item.id: item for item in new}
    return Changes(
        added=tuple(i for i in after if i not in before),
        removed=tuple(i for i in before if i not in after),
        changed=tuple(i for i in after if i in before and before[i] != after[i]),
    )


def _reordered(running: Config, effective: Config, name: str) -> bool:
    """Did the items both configs have change places (the order the page shows them in)?"""
    before = [item.id for item in getattr(running, name)]
    after = [item.id for item in getattr(effective, name)]
    return [i for i in before if i in after] != [i for i in after if i in before]


def _changed_sections(running: Config, effective: Config) -> Iterable[str]:
    for name in type(running).model_fields:
        old, new = getattr(running, name), getattr(effective, name)
        if name in _LISTS or old == new:
            continue
        if name in _DEEPER and isinstance(old, BaseModel):
            yield from (
                f"{name}.{sub}"
                for sub in type(old).model_fields
                if getattr(old, sub) != getattr(new, sub)
            )
        else:
            yield name
