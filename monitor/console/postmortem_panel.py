"""The postmortem part of the console's incident page: the saved text, a draft, a preview."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from monitor.postmortems.service import PostmortemService
from monitor.storage.postmortems import PostmortemRow

OUTLINE = """## Summary

## Impact

## Timeline

## Root cause

## What we are changing
"""
"""The text a new postmortem starts from (seed 004 §7: the cause and the stronger monitoring)."""


@dataclass(frozen=True, slots=True)
class PostmortemPanel:
    """What the incident page shows of the postmortem."""

    saved: PostmortemRow | None
    text: str  # in the editor: the draft being written, else the saved text, else the outline
    preview: Markup | None = None

    @property
    def publishable(self) -> bool:
        """Whether the Publish button applies: saved and not yet public."""
        return self.saved is not None and not self.saved.is_published


async def postmortem_panel(
    service: PostmortemService | None,
    incident_id: int,
    *,
    draft: str | None = None,
    preview: Markup | None = None,
) -> PostmortemPanel | None:
    """The panel for ``incident_id`` (None when the console has no postmortem service)."""
    if service is None:
        return None
    saved = await service.get(incident_id)
    text = draft if draft is not None else (saved.markdown if saved else OUTLINE)
    return PostmortemPanel(saved, text, preview)
