"""Previews of an update before it is posted: the public page's words and the X post's length."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.notices import STATUS_WORDS, ComponentRef, IncidentInfo, Notice, Text


@dataclass(frozen=True, slots=True)
class XPreview:
    """How an update would go to one X account: the post as sent and the full text's weight."""

    language: str  # ja, en or both
    post: str
    weight: int  # X's weighted length of the whole text, before any cut
    limit: int

    @property
    def cut(self) -> bool:
        """Whether X would get a shortened post."""
        return self.weight > self.limit


PostPreviewer = Callable[[Notice, str], XPreview]
"""Builds the X preview of a notice for an account posting in a language (wired by the app)."""


@dataclass(frozen=True, slots=True)
class UpdatePreview:
    """An update as the public page and X would show it, per language."""

    status_words: Text
    body: Text
    posts: list[XPreview]


def preview_update(
    detail: dict[str, Any], status: str, body: Text, config: Config, previewer: PostPreviewer | None
) -> UpdatePreview:
    """Preview ``body`` posted with ``status`` on the incident ``detail`` describes."""
    notice = _notice(detail, status, body, config)
    words = STATUS_WORDS.get(status, Text(status, status))
    posts = [previewer(notice, lang) for lang in x_languages(config)] if previewer else []
    return UpdatePreview(words, body, posts)


def x_languages(config: Config) -> list[str]:
    """The language of each configured X account (none when X is not configured)."""
    settings = config.notifications.x
    return [] if settings is None else [account.language for account in settings.accounts]


def _notice(detail: dict[str, Any], status: str, body: Text, config: Config) -> Notice:
    names = {c.id: c.names for c in config.components}
    components = tuple(
        ComponentRef(c["id"], Text(names[c["id"]].ja, names[c["id"]].en))
        for c in detail["components"]
        if c["id"] in names
    )
    url = f"{config.site.url.rstrip('/')}/incidents/{detail['id']}"
    incident = IncidentInfo(
        id=detail["id"], title=Text(detail["name_ja"], detail["name_en"]),
        severity=detail["severity"], status=detail["status"],
        severity_reason=detail["severity_reason"] or "", components=components, url=url,
        started_at=detail["started_at"],
    )  # fmt: skip
    return Notice(
        event_id=0, kind="update_posted", at=detail["updated_at"] or detail["started_at"],
        body=body, site_name=config.site.name, site_url=config.site.url, incident=incident,
        update_status=status,
    )  # fmt: skip
