"""The page indicator: the one-word rollup of everything, with the rule stated once.

Rule: the highest Statuspage ``impact`` among unresolved incidents; at least ``minor``
while any component is not operational (maintenance aside); otherwise ``none``.
"""

from __future__ import annotations

from monitor.domain import ComponentStatus
from monitor.views import StatusView

_ORDER = ("none", "minor", "major", "critical")


def page_indicator(view: StatusView) -> str:
    """Return ``none``, ``minor``, ``major`` or ``critical`` for the page."""
    impacts = [incident.severity.impact for incident in view.incidents if incident.is_open]
    quiet = {ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE}
    if any(component.status not in quiet for component in view.components):
        impacts.append("minor")
    return max(impacts, key=_ORDER.index, default="none")
