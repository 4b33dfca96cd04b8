"""The postmortem rules: drafts for any incident, publication once resolved, refusals with reasons."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from sqlalchemy import select

from monitor.postmortems.service import MAX_MARKDOWN
from monitor.responder import ActionRefusedError
from monitor.storage.database import Database
from monitor.storage.tables import incidents, timeline_events
from tests.postmortems.support import Desk, make_desk
from tests.support import FakeClock

TEXT = "# What happened\n\nThe matching engine stalled for 12 minutes."


@pytest.fixture
async def desk(database: Database, clock: FakeClock) -> Desk:
    return await make_desk(database, clock)


async def events(database: Database, incident_id: int) -> list[tuple[str, str, dict[str, object]]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(timeline_events)
            .where(timeline_events.c.incident_id == incident_id)
            .where(timeline_events.c.kind.like("postmortem%"))
            .order_by(timeline_events.c.id)
        )
        return [(r.kind, r.actor, r.data) for r in rows]


async def refusal(call: Awaitable[Any]) -> tuple[int, str]:
    with pytest.raises(ActionRefusedError) as refused:
        await call
    return refused.value.status, refused.value.message


async def test_a_draft_is_saved_for_an_open_incident_without_touching_the_page(desk: Desk) -> None:
    incident_id = await desk.open_incident()
    saved = await desk.service.save_draft(incident_id, TEXT, "alice")
    assert (saved.incident_id, saved.markdown, saved.updated_by) == (incident_id, TEXT, "alice")
    assert saved.updated_at == desk.clock.now()
    assert saved.published_at is None and saved.published_by is None
    assert await desk.service.get(incident_id) == saved
    assert desk.refreshes == 0
    assert await events(desk.database, incident_id) == [
        ("postmortem_saved", "alice", {"characters": len(TEXT), "published": False})
    ]


async def test_saving_again_replaces_the_text_and_names_the_new_author(desk: Desk) -> None:
    incident_id = await desk.open_incident()
    await desk.service.save_draft(incident_id, "first", "alice")
    desk.clock.advance(30)
    saved = await desk.service.save_draft(incident_id, "second", "bob")
    assert (saved.markdown, saved.updated_by) == ("second", "bob")
    assert saved.updated_at == desk.clock.now()
    assert [kind for kind, *_ in await events(desk.database, incident_id)] == [
        "postmortem_saved", "postmortem_saved",
    ]  # fmt: skip


async def test_publishing_a_resolved_incidents_postmortem(desk: Desk) -> None:
    incident_id = await desk.resolved_incident()
    await desk.service.save_draft(incident_id, TEXT, "alice")
    desk.clock.advance(120)
    published = await desk.service.publish(incident_id, "bob")
    assert (published.published_at, published.published_by) == (desk.clock.now(), "bob")
    assert published.markdown == TEXT
    assert desk.refreshes == 1
    async with desk.database.transaction() as session:
        updated = await session.scalar(
            select(incidents.c.updated_at).where(incidents.c.id == incident_id)
        )
    assert updated == desk.clock.now()  # the public incident changed (Statuspage's updated_at)
    assert (await events(desk.database, incident_id))[-1] == (
        "postmortem_published", "bob", {"characters": len(TEXT)},
    )  # fmt: skip


async def test_saving_a_published_postmortem_corrects_the_public_text(desk: Desk) -> None:
    incident_id = await desk.resolved_incident()
    await desk.service.save_draft(incident_id, TEXT, "alice")
    first = await desk.service.publish(incident_id, "bob")
    desk.clock.advance(60)
    fixed = await desk.service.save_draft(incident_id, TEXT + " (corrected)", "carol")
    assert fixed.markdown.endswith("(corrected)")
    assert (fixed.published_at, fixed.published_by) == (first.published_at, "bob")
    assert desk.refreshes == 2
    assert (await events(desk.database, incident_id))[-1][2] == {
        "characters": len(TEXT) + 12, "published": True,
    }  # fmt: skip


async def test_an_unknown_incident_is_404_for_every_call(desk: Desk) -> None:
    for call in (
        desk.service.get(999),
        desk.service.save_draft(999, TEXT, "alice"),
        desk.service.publish(999, "alice"),
    ):
        assert await refusal(call) == (404, "no incident #999")


async def test_an_incident_without_a_postmortem_reads_as_none(desk: Desk) -> None:
    assert await desk.service.get(await desk.open_incident()) is None


async def test_an_open_incident_cannot_have_its_postmortem_published(desk: Desk) -> None:
    incident_id = await desk.open_incident()
    await desk.service.save_draft(incident_id, TEXT, "alice")
    status, message = await refusal(desk.service.publish(incident_id, "bob"))
    assert status == 409
    assert message == (
        f"incident #{incident_id} is investigating: a postmortem is published only once the "
        "incident is resolved"
    )
    assert (await desk.service.get(incident_id)).published_at is None  # type: ignore[union-attr]
    assert desk.refreshes == 0


async def test_nothing_saved_nothing_to_publish(desk: Desk) -> None:
    incident_id = await desk.resolved_incident()
    status, message = await refusal(desk.service.publish(incident_id, "bob"))
    assert (status, message) == (
        409, f"incident #{incident_id} has no postmortem to publish: save one first",
    )  # fmt: skip


async def test_publishing_twice_is_refused_and_keeps_the_first_publication(desk: Desk) -> None:
    incident_id = await desk.resolved_incident()
    await desk.service.save_draft(incident_id, TEXT, "alice")
    first = await desk.service.publish(incident_id, "bob")
    desk.clock.advance(60)
    status, message = await refusal(desk.service.publish(incident_id, "carol"))
    assert status == 409 and "already published" in message
    again = await desk.service.get(incident_id)
    assert again is not None and (again.published_at, again.published_by) == (
        first.published_at, "bob",
    )  # fmt: skip
    published = [e for e in await events(desk.database, incident_id) if e[0].endswith("published")]
    assert len(published) == 1


@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        ("", "markdown: must not be empty"),
        (" \n\t ", "markdown: must not be empty"),
        ("x" * (MAX_MARKDOWN + 1), "markdown: 50001 characters, at most 50000 allowed"),
        ("before\x00after", "markdown: must not contain NUL characters"),
        ("half a pair \ud800", "markdown: is not valid Unicode text"),
    ],
)
async def test_unstorable_markdown_is_422_naming_the_field(
    desk: Desk, markdown: str, message: str
) -> None:
    incident_id = await desk.open_incident()
    assert await refusal(desk.service.save_draft(incident_id, markdown, "alice")) == (422, message)
    assert await desk.service.get(incident_id) is None
    assert await events(desk.database, incident_id) == []


async def test_the_longest_accepted_text_is_stored_whole(desk: Desk) -> None:
    incident_id = await desk.open_incident()
    text = ("障害の経緯 " * (MAX_MARKDOWN // 6))[:MAX_MARKDOWN]
    await desk.service.save_draft(incident_id, text, "alice")
    stored = await desk.service.get(incident_id)
    assert stored is not None and stored.markdown == text


async def test_a_reopened_incident_refuses_publication(desk: Desk) -> None:
    incident_id = await desk.resolved_incident()
    await desk.service.save_draft(incident_id, TEXT, "alice")
    async with desk.database.transaction() as session:
        await session.execute(
            incidents.update().where(incidents.c.id == incident_id).values(status="monitoring")
        )
    status, _ = await refusal(desk.service.publish(incident_id, "bob"))
    assert status == 409
