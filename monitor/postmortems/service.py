"""Writing and publishing postmortems: the rules, the timeline events, the page refresh.

Any incident may have a postmortem drafted; only a resolved one may have it published. Saving
a published postmortem changes the public text at once (a correction). Every save and the
publication append a timeline event naming the actor, so the audit and the report see them.
Refusals are ``ActionRefusedError`` with the HTTP status that says why, as for a responder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.clock import Clock
from monitor.domain import IncidentStatus
from monitor.postmortems.kinds import PUBLISHED, SAVED
from monitor.responder import ActionRefusedError
from monitor.storage.database import Database
from monitor.storage.incidents import update_incident
from monitor.storage.postmortems import (
    PostmortemRow,
    get_postmortem,
    incident_status,
    mark_published,
    save_postmortem,
)
from monitor.storage.timeline import append_event

MAX_MARKDOWN = 50_000
"""The longest postmortem accepted, in characters."""

OnChange = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


def markdown_problem(markdown: str) -> str | None:
    """Return what keeps ``markdown`` from being stored, or None when it can be."""
    if not markdown.strip():
        return "must not be empty"
    if len(markdown) > MAX_MARKDOWN:
        return f"{len(markdown)} characters, at most {MAX_MARKDOWN} allowed"
    if "\x00" in markdown:  # PostgreSQL refuses NUL in text
        return "must not contain NUL characters"
    try:
        markdown.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no database can store it
        return "is not valid Unicode text"
    return None


def checked_markdown(markdown: str) -> str:
    """Return ``markdown`` if it can be stored; raise a 422 naming the field otherwise."""
    problem = markdown_problem(markdown)
    if problem is not None:
        raise ActionRefusedError(422, f"markdown: {problem}")
    return markdown


class PostmortemService:
    """Saves, publishes and reads incidents' postmortems."""

    def __init__(self, database: Database, clock: Clock, *, on_change: OnChange = _nothing) -> None:
        self._database = database
        self._clock = clock
        self._on_change = on_change  # re-renders the public page (SnapshotPublisher.changed)

    async def get(self, incident_id: int) -> PostmortemRow | None:
        """Return the incident's postmortem, None if none is written; 404 for no such incident."""
        async with self._database.transaction() as session:
            await self._status(session, incident_id)
            return await get_postmortem(session=session, incident_id=incident_id)

    async def save_draft(self, incident_id: int, markdown: str, actor: str) -> PostmortemRow:
        """Write the postmortem's text; if it is published, the public page shows the new text."""
        text = checked_markdown(markdown)
        at = self._clock.now()
        async with self._database.transaction() as session:
            await self._status(session, incident_id)
            before = await get_postmortem(session=session, incident_id=incident_id)
            public = before is not None and before.is_published
            saved = await save_postmortem(
                session=session, incident_id=incident_id, markdown=text, actor=actor, at=at
            )
            if public:
                await update_incident(session=session, incident_id=incident_id, updated_at=at)
            await append_event(
                session=session, at=at, kind=SAVED, incident_id=incident_id, actor=actor,
                data={"characters": len(text), "published": public},
            )  # fmt: skip
        if public:
            await self._on_change()
        return saved

    async def publish(self, incident_id: int, actor: str) -> PostmortemRow:
        """Put the postmortem on the public page: 409 unless the incident is resolved."""
        at = self._clock.now()
        async with self._database.transaction() as session:
            draft = await self._publishable(session, incident_id)
            published = await mark_published(
                session=session, incident_id=incident_id, actor=actor, at=at
            )
            if published is None:  # published meanwhile (SQLite takes no row lock)
                raise _already_published(incident_id)
            await update_incident(session=session, incident_id=incident_id, updated_at=at)
            await append_event(
                session=session, at=at, kind=PUBLISHED, incident_id=incident_id, actor=actor,
                data={"characters": len(draft.markdown)},
            )  # fmt: skip
        await self._on_change()
        return published

    async def _publishable(self, session: AsyncSession, incident_id: int) -> PostmortemRow:
        """Return the draft to publish, or refuse: unknown incident, not resolved, nothing saved."""
        status = await self._status(session, incident_id, lock=True)
        if status != IncidentStatus.RESOLVED:
            raise ActionRefusedError(
                409, f"incident #{incident_id} is {status}: a postmortem is published only "
                "once the incident is resolved",
            )  # fmt: skip
        draft = await get_postmortem(session=session, incident_id=incident_id)
        if draft is None:
            raise ActionRefusedError(
                409, f"incident #{incident_id} has no postmortem to publish: save one first"
            )
        if draft.is_published:
            raise _already_published(incident_id, draft.published_at)
        return draft

    async def _status(self, session: AsyncSession, incident_id: int, *, lock: bool = False) -> str:
        status = await incident_status(session=session, incident_id=incident_id, lock=lock)
        if status is None:
            raise ActionRefusedError(404, f"no incident #{incident_id}")
        return status


def _already_published(incident_id: int, at: datetime | None = None) -> ActionRefusedError:
    when = f" at {at.isoformat()}" if at is not None else ""
    return ActionRefusedError(
        409, f"the postmortem of incident #{incident_id} is already published{when}; "
        "saving it changes the published text",
    )  # fmt: skip
