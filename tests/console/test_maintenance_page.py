"""The console's maintenance page: schedule, edit and cancel windows, in the site's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from monitor.storage.database import Database
from monitor.storage.maintenance import NewMaintenance
from monitor.storage.tables import audit_log, maintenance_components, maintenances, timeline_events
from tests.access.support import Access, running
from tests.console.support import csrf_of, post_form, signed_in
from tests.support import FakeClock

PAGE = "/console/maintenance"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
# The fake clock starts at 2026-11-21 09:00 UTC, 18:00 in Tokyo (the site's default zone).
FORM = {
    "name_ja": "ウォレット移行", "name_en": "Wallet migration", "body_ja": "出金を停止します",
    "body_en": "Withdrawals pause", "start": "2026-11-22T02:00", "end": "2026-11-22T04:30",
    "components": ["btc-withdrawals", "eth-withdrawals"], "components_shown": "1",
}  # fmt: skip


async def schedule(access: Access, **fields: Any) -> int:
    """Schedule a window through the service, a day ahead by default; return its id."""
    start = access.clock.now() + timedelta(days=1)
    new = NewMaintenance(
        name_ja=fields.get("name_ja", "定期保守"), name_en=fields.get("name_en", "Routine upkeep"),
        body_ja="", body_en="", scheduled_start=start, scheduled_end=start + timedelta(hours=2),
        components=("btc-withdrawals",),
    )  # fmt: skip
    return (await access.services.maintenance.schedule(new, actor="test")).id


async def window(database: Database, number: int) -> Any:
    async with database.transaction() as session:
        return (
            await session.execute(select(maintenances).where(maintenances.c.id == number))
        ).one()


async def count_windows(database: Database) -> int:
    async with database.transaction() as session:
        return len((await session.execute(select(maintenances.c.id))).all())


async def test_a_viewer_sees_the_windows_but_cannot_change_them(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        number = await schedule(access)
        client = await signed_in(access, "viewer")
        page = await client.get(PAGE)
        assert page.status_code == 200
        assert f"#{number} Routine upkeep" in page.text and "定期保守" in page.text
        assert "2026-11-22 18:01:01 JST" in page.text  # the start, in the site's zone
        assert 'aria-current="page">Maintenance' in page.text
        assert (
            f"/maintenance/{number}/cancel" not in page.text
            and 'action="/console/maintenance"' not in page.text
        )
        token = csrf_of(page.text)
        refused = await client.post(PAGE, data={"csrf_token": token, **FORM})
        assert refused.status_code == 403 and "needs the responder role" in refused.text
        cancel = await client.post(f"{PAGE}/{number}/cancel", data={"csrf_token": token})
        assert cancel.status_code == 403
        edit = await client.post(f"{PAGE}/{number}/edit", data={"csrf_token": token, **FORM})
        assert edit.status_code == 403
        assert await count_windows(database) == 1
        assert (await window(database, number)).status == "scheduled"


async def test_scheduling_reads_the_times_in_the_site_zone_and_is_audited(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        client = await signed_in(access, "responder")
        form = await client.get(PAGE)
        assert 'type="datetime-local" name="start"' in form.text
        assert "in the site's time zone, <strong>Asia/Tokyo</strong>" in form.text
        answer = await post_form(client, PAGE, PAGE, FORM)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{PAGE}?done=scheduled"
        async with database.transaction() as session:
            row = (await session.execute(select(maintenances))).one()
            covered = (
                (await session.execute(select(maintenance_components.c.component_id)))
                .scalars()
                .all()
            )
            event = (
                await session.execute(
                    select(timeline_events).where(timeline_events.c.kind == "maintenance_scheduled")
                )
            ).one()
            audited = (
                await session.execute(select(audit_log).where(audit_log.c.route == PAGE))
            ).all()
        assert (row.scheduled_start, row.scheduled_end) == (
            datetime(2026, 11, 21, 17, 0, tzinfo=UTC), datetime(2026, 11, 21, 19, 30, tzinfo=UTC),
        )  # fmt: skip
        assert (row.name_en, row.body_ja, sorted(covered)) == (
            "Wallet migration",
            "出金を停止します",
            ["btc-withdrawals", "eth-withdrawals"],
        )
        assert event.actor == "token:responder-1"
        assert [(a.actor, a.method, a.status) for a in audited] == [
            ("token:responder-1", "POST", 303)
        ]
        assert "Wallet migration" in (audited[0].summary or "")
        shown = await client.get(answer.headers["location"])
        assert "Maintenance scheduled." in shown.text
        assert "2026-11-22 02:00:00 JST" in shown.text and "2026-11-22 04:30:00 JST" in shown.text


async def test_a_post_without_the_csrf_token_is_refused(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        number = await schedule(access)
        client = await signed_in(access, "responder")
        for target in (PAGE, f"{PAGE}/{number}/edit", f"{PAGE}/{number}/cancel"):
            answer = await client.post(target, data={**FORM, "csrf_token": "forged"})
            assert answer.status_code == 403, target
            assert "did not come from the console" in answer.text
        assert await count_windows(database) == 1
        row = await window(database, number)
        assert (row.status, row.name_en) == ("scheduled", "Routine upkeep")


async def test_bad_fields_are_refused_naming_the_field_and_the_draft_is_kept(
    database: Database, clock: FakeClock
) -> None:
    cases = [
        ({"end": "2026-11-22T01:00"}, "End: must be after the start (2026-11-22T02:00 Asia/Tokyo)"),
        ({"name_en": ""}, "Title (English): this field is required"),
        ({"name_ja": "長" * 201}, "Title (日本語): at most 200 characters"),
        (
            {"start": "2026-02-30T10:00"},
            "Start: &#39;2026-02-30T10:00&#39; is not a date and time of the calendar",
        ),
        (
            {"start": "tomorrow"},
            "Start: &#39;tomorrow&#39; is not a date and time (YYYY-MM-DDTHH:MM)",
        ),
        ({"end": ""}, "End: this field is required"),
        ({"components": []}, "Components: choose at least one"),
        ({"components": ["nope"]}, "Components: there is no component &#39;nope&#39;"),
        (
            {"start": "2026-11-20T10:00", "end": "2026-11-21T10:00"},
            "End: 2026-11-21T01:00:00+00:00 is in the past",
        ),
    ]
    async with running(database, clock) as access:
        client = await signed_in(access, "responder")
        for change, message in cases:
            answer = await post_form(
                client, PAGE, PAGE, {**FORM, "body_en": "kept draft", **change}
            )
            assert answer.status_code == 422, (change, answer.text)
            assert message in answer.text, change
            assert "kept draft" in answer.text  # the form comes back as it was posted
        assert await count_windows(database) == 0


async def test_the_edit_form_is_prefilled_and_an_edit_lands(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        number = await schedule(access)
        client = await signed_in(access, "responder")
        edit = f"{PAGE}/{number}/edit"
        form = await client.get(edit)
        assert form.status_code == 200
        assert 'name="start" value="2026-11-22T18:01:01"' in form.text  # seconds kept, in Tokyo
        assert 'value="btc-withdrawals" checked' in form.text
        answer = await post_form(client, edit, edit, {
            "name_ja": "定期保守", "name_en": "Routine upkeep, longer", "body_ja": "", "body_en": "",
            "start": "2026-11-22T18:01:01", "end": "2026-11-22T22:00",
            "components": ["btc-withdrawals", "login"], "components_shown": "1",
        })  # fmt: skip
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{PAGE}?done=edited"
        row = await window(database, number)
        assert row.name_en == "Routine upkeep, longer"
        assert row.scheduled_start == clock.now() + timedelta(days=1)  # unchanged
        assert row.scheduled_end == datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
        async with database.transaction() as session:
            covered = (
                (
                    await session.execute(
                        select(maintenance_components.c.component_id).where(
                            maintenance_components.c.maintenance_id == number
                        )
                    )
                )
                .scalars()
                .all()
            )
            kinds = (
                await session.execute(
                    select(timeline_events.c.kind, timeline_events.c.actor).where(
                        timeline_events.c.maintenance_id == number
                    )
                )
            ).all()
            audited = (
                await session.execute(
                    select(audit_log).where(
                        audit_log.c.route == "/console/maintenance/{maintenance_id}/edit"
                    )
                )
            ).all()
        assert sorted(covered) == ["btc-withdrawals", "login"]
        assert ("maintenance_updated", "token:responder-1") in kinds and (
            "maintenance_extended",
            "token:responder-1",
        ) in kinds
        assert [(a.actor, a.status) for a in audited] == [("token:responder-1", 303)]
        assert "Maintenance updated." in (await client.get(answer.headers["location"])).text


async def test_edit_refusals_keep_the_form(database: Database, clock: FakeClock) -> None:
    async with running(database, clock) as access:
        number = await schedule(access)
        client = await signed_in(access, "responder")
        edit = f"{PAGE}/{number}/edit"
        fields = {
            **FORM,
            "name_en": "Draft title",
            "start": "2026-11-23T10:00",
            "end": "2026-11-23T09:00",
        }
        bad = await post_form(client, edit, edit, fields)
        assert bad.status_code == 422 and "End: must be after the start" in bad.text
        assert 'value="Draft title"' in bad.text
        await access.services.maintenance.start(number, actor="test")
        started = await client.get(edit)
        assert 'name="start" value="2026-11-22T18:01:01" required step="1" disabled' in started.text
        moved = await post_form(
            client, edit, edit, {**FORM, "start": "2026-11-23T10:00", "end": "2026-11-23T12:00"}
        )
        assert moved.status_code == 409
        assert f"cannot move the start of maintenance #{number}: it is in progress" in moved.text
        assert (await window(database, number)).name_en == "Routine upkeep"
        for target in (f"{PAGE}/424242/edit", f"{PAGE}/abc/edit", f"{PAGE}/0/edit"):
            assert (await client.get(target)).status_code == 404, target
        unknown = await post_form(client, PAGE, f"{PAGE}/424242/edit", FORM)
        assert unknown.status_code == 404 and "maintenance #424242 does not exist" in unknown.text


async def test_cancel_asks_first_and_refuses_what_cannot_be_cancelled(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        first, second = await schedule(access), await schedule(access, name_en="Second")
        client = await signed_in(access, "responder")
        page = await client.get(PAGE)
        assert (
            f'action="/console/maintenance/{first}/cancel" data-confirm="Cancel maintenance #{first} (Routine upkeep)?"'
            in page.text
        )
        answer = await post_form(
            client, PAGE, f"{PAGE}/{first}/cancel", {"reason": "vendor postponed"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == f"{PAGE}?done=cancelled"
        assert (await window(database, first)).status == "cancelled"
        again = await post_form(client, PAGE, f"{PAGE}/{first}/cancel")
        assert again.status_code == 409 and "it was cancelled" in again.text
        service = access.services.maintenance
        await service.start(second, actor="test")
        await service.complete(second, actor="test")
        done = await post_form(client, PAGE, f"{PAGE}/{second}/cancel")
        assert done.status_code == 409 and "it is already completed" in done.text
        assert (await post_form(client, PAGE, f"{PAGE}/424242/cancel")).status_code == 404
        async with database.transaction() as session:
            event = (
                await session.execute(
                    select(timeline_events).where(timeline_events.c.kind == "maintenance_cancelled")
                )
            ).one()
            audited = (
                (
                    await session.execute(
                        select(audit_log.c.status).where(
                            audit_log.c.route == "/console/maintenance/{maintenance_id}/cancel"
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert (event.reason, event.actor) == ("vendor postponed", "token:responder-1")
        assert audited == [303, 409, 409, 404]
        listed = await client.get(PAGE)
        assert "Ended in the last 7 days" in listed.text and "cancelled" in listed.text


async def test_titles_and_texts_are_shown_escaped(database: Database, clock: FakeClock) -> None:
    async with running(database, clock) as access:
        client = await signed_in(access, "responder")
        fields = {**FORM, "name_en": XSS, "name_ja": XSS, "body_en": XSS}
        assert (await post_form(client, PAGE, PAGE, fields)).status_code == 303
        async with database.transaction() as session:
            number = (await session.execute(select(maintenances.c.id))).scalar_one()
        for page in (PAGE, f"{PAGE}/{number}/edit"):
            text = (await client.get(page)).text
            assert "<script>alert(1)" not in text and "<img src=x" not in text, page
            assert (
                "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
                in text
            ), page
        refused = await post_form(client, PAGE, PAGE, {**FORM, "name_en": XSS, "start": XSS})
        assert refused.status_code == 422
        assert "<script>alert(1)" not in refused.text and "<img src=x" not in refused.text
