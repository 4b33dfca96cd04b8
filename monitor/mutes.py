"""One question for maintenance windows: is this component's alerting muted now, and why?

A muted component's alerts are recorded but open no incident. Muting never hides a recovery
or a resolve: those always go through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.maintenance_windows import active_window_for


class Mutes(Protocol):
    """Answers whether a component's new alerts should open incidents right now."""

    async def muted(self, *, session: AsyncSession, component_id: str, at: datetime) -> str | None:
        """Return why ``component_id`` is muted at ``at``, or None when it is not."""
        ...


class MaintenanceMutes:
    """Mutes the components of every maintenance window in progress."""

    async def muted(self, *, session: AsyncSession, component_id: str, at: datetime) -> str | None:
        """Return "maintenance #N: name" while a window in progress covers the component."""
        window = await active_window_for(session=session, component_id=component_id)
        return None if window is None else f"maintenance #{window[0]}: {window[1]}"
