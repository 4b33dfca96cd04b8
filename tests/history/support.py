"""Builders for history tests: incidents with updates by hand, rendered documents, parsed feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import feedparser  # type: ignore[import-untyped]

from monitor.domain import IncidentStatus, Severity
from monitor.history_views import HistoryView
from monitor.views import IncidentView, StatusView, UpdateView
from statuspage.history import render_extras
from statuspage.html import build_environment
from tests.statuspage.support import hours

EVIL = "<script>alert(1)</script> \"double\" 'single' & more"
"""Text a responder might paste: it must come out as text everywhere."""


def incident(
    iid: int,
    started: datetime,
    *,
    components: tuple[str, ...] = ("a",),
    name: str | None = None,
    body: str | None = None,
    resolved: bool = True,
) -> IncidentView:
    """Return an incident on ``components`` opened at ``started`` with two updates an hour apart
    (investigating, then resolved unless ``resolved`` is False); update ids are ``iid * 10 + n``."""
    title = name or f"Incident {iid}"
    first = UpdateView(
        iid * 10 + 1,
        iid,
        IncidentStatus.INVESTIGATING,
        {"ja": f"調査中{iid}", "en": f"Looking into {iid}"},
        started,
    )
    updates = [first]
    if resolved:
        text = body or f"Fixed {iid}"
        updates.insert(
            0,
            UpdateView(
                iid * 10 + 2,
                iid,
                IncidentStatus.RESOLVED,
                {"ja": f"解決{text}", "en": text},
                started + hours(1),
            ),
        )
    status = IncidentStatus.RESOLVED if resolved else IncidentStatus.INVESTIGATING
    return IncidentView(
        id=iid,
        names={"ja": f"障害{title}", "en": title},
        status=status,
        severity=Severity.MODERATE,
        severity_reason="policy",
        started_at=started,
        created_at=started,
        updated_at=updates[0].created_at,
        monitoring_at=None,
        resolved_at=started + hours(1) if resolved else None,
        component_ids=components,
        updates=tuple(updates),
    )


def render(shown: StatusView, history: HistoryView, language: str) -> dict[str, tuple[bytes, str]]:
    """Return every extra document of ``language``."""
    return render_extras(build_environment(), shown, history, language)


def page(shown: StatusView, history: HistoryView, language: str, path: str) -> str:
    """Return one extra HTML document as text."""
    body, media_type = render(shown, history, language)[path]
    assert media_type == "text/html; charset=utf-8"
    return body.decode()


def parse(body: bytes) -> Any:
    """Parse a feed and insist it is well-formed (no ``bozo``)."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed
