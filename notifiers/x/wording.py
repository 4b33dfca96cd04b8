"""The words of a post's headline, in Japanese and English.

A headline reads ``[障害] <title> — 調査中``: what it is about (an incident or a maintenance),
its title, and where things stand. Components are left to the title (which names the main one)
and the linked page: in 280 weighted characters shared by two languages, the update's own
words matter more than a list of names.
"""

from __future__ import annotations

from monitor.notices import STATUS_WORDS, Notice, Text

INCIDENT = Text("障害", "Incident")
MAINTENANCE = Text("メンテナンス", "Maintenance")
NOTICE = Text("お知らせ", "Notice")

STATUS = STATUS_WORDS
"""Incident and maintenance statuses; an unknown status is shown as it is."""


def headline(notice: Notice, language: str) -> str:
    """The first line of the post about ``notice`` in ``language`` ("ja" or "en")."""
    label, title, status = _parts(notice)
    line = f"[{label.get(language)}] {title.get(language)}".rstrip()
    return f"{line} — {_status(status, language)}" if status else line


def _parts(notice: Notice) -> tuple[Text, Text, str | None]:
    """The label, title and status a headline is made of."""
    if notice.incident is not None:
        incident = notice.incident
        return INCIDENT, incident.title, notice.update_status or incident.status
    if notice.maintenance is not None:
        return MAINTENANCE, notice.maintenance.title, notice.maintenance.status
    return NOTICE, Text(notice.site_name, notice.site_name), None


def _status(status: str, language: str) -> str:
    """The status in ``language``."""
    known = STATUS.get(status)
    return status if known is None else known.get(language)
