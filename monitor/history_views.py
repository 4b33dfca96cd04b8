"""The history read model: every incident and every public maintenance window, ever.

The status page's own read model (``monitor.views.StatusView``) holds the open and the newest
items only; the history pages, the feeds and the maintenance pages need all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.views import IncidentView, MaintenanceView


@dataclass(frozen=True, slots=True)
class HistoryView:
    """Every incident (with its updates) and every window the public may see, newest first.

    ``incidents`` are ordered by start, ``maintenances`` by scheduled start; cancelled windows
    are left out, as everywhere the public looks.
    """

    incidents: tuple[IncidentView, ...] = ()
    maintenances: tuple[MaintenanceView, ...] = ()
