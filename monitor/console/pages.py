"""Rendering console pages: one Jinja2 environment, escaping everything, times in the site's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from monitor.clock import Clock
from monitor.console.sessions import SignedIn
from monitor.reload.live import LiveConfig

NOTICES = {
    "acknowledged": "Acknowledged: escalation stopped.",
    "unacknowledged": "Acknowledgement taken back: escalation starts again.",
    "posted": "Update posted on the public page.",
    "severity": "Severity changed.",
    "resolved": "Incident resolved.",
    "override": "Component status overridden.",
    "override_cleared": "Component override ended.",
    "postmortem_saved": "Postmortem draft saved.",
    "postmortem_published": "Postmortem published on the public page.",
    "scheduled": "Maintenance scheduled.",
    "edited": "Maintenance updated.",
    "cancelled": "Maintenance cancelled.",
    "retried": "Delivery queued again.",
    "opened": "Incident opened.",
}
"""The fixed messages a redirect may name (``?done=KEY``): no free text ever rides in a URL."""


class Pages:
    """Renders the console's templates with the common context of every page."""

    def __init__(self, clock: Clock, live: LiveConfig) -> None:
        self._clock, self._live = clock, live
        self._env = Environment(
            loader=PackageLoader("monitor.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["local"] = self.local
        self._env.filters["iso"] = _iso
        self._env.filters["duration"] = duration
        self._env.globals["ago"] = lambda at: ago(at, self._clock.now())

    def render(
        self, name: str, signed: SignedIn | None, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """Render template ``name`` for ``signed`` (None on the sign-in page)."""
        now = self._clock.now()
        context.setdefault("error", None)
        context.setdefault("done", None)
        context.setdefault("active", "")
        html = self._env.get_template(name).render(
            signed=signed, site_name=self._live.current.site.name, now=now, **context
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone (the config in force)."""
        return ZoneInfo(self._live.current.site.time_zone)

    def local(self, at: datetime | None) -> str:
        """``at`` in the site's time zone, to the second, or a dash."""
        if at is None:
            return "—"
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def done_message(key: str | None) -> str | None:
    """The fixed message a redirect named, if it is one of ours."""
    return NOTICES.get(key or "")


def ago(at: datetime | None, now: datetime) -> str:
    """How long ago ``at`` was, in the largest sensible unit ("4 min", "2 h 5 min")."""
    if at is None:
        return "—"
    return duration((now - at).total_seconds())


def duration(seconds_or_none: float | None) -> str:
    """A duration in words ("42 s", "4 min", "2 h 5 min", "3 d 1 h"), or a dash."""
    if seconds_or_none is None:
        return "—"
    seconds = max(0, int(seconds_or_none))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.isoformat()
