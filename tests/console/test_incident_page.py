"""The console's incident page: bilingual updates with a preview, severity, resolution, reports."""

from __future__ import annotations

from sqlalchemy import select

from monitor.storage.database import Database
from monitor.storage.tables import incident_updates, incidents
from tests.access.support import running
from tests.console.support import on_an_incident, post_form, signed_in
from tests.lifecycle_support import lifecycle_config
from tests.support import FakeClock

X_ACCOUNTS = {
    "x": {
        "accounts": [
            {"name": "ja", "language": "ja", "credentials_env_prefix": "T_JA"},
            {"name": "en", "language": "en", "credentials_env_prefix": "T_EN"},
        ]
    }
}


async def test_preview_shows_both_languages_and_each_x_post_without_posting(
    database: Database, clock: FakeClock
) -> None:
    config = lifecycle_config(notifications=X_ACCOUNTS)
    async with on_an_incident(database, clock, config=config) as scene:
        client, number, page = scene.client, scene.number, scene.page
        long_ja = "出金処理が遅れています。" * 20  # 240 CJK characters: 480 weighted
        answer = await post_form(client, page, f"{page}/updates", {
            "action": "preview", "status": "identified", "body_ja": long_ja,
            "body_en": "The queue is draining.",
        })  # fmt: skip
        assert answer.status_code == 200
        text = answer.text
        assert "原因特定" in text and "Identified" in text  # the public page's status words
        assert "X post (ja)" in text and "too long" in text
        assert "X post (en)" in text and "— fits" in text
        assert long_ja in text  # the draft is kept in the form
        async with database.transaction() as session:
            updates = (
                await session.execute(
                    select(incident_updates).where(incident_updates.c.incident_id == number)
                )
            ).all()
        assert len(updates) == 1  # only the opening update: a preview posts nothing


async def test_a_posted_update_reaches_the_public_page_in_both_languages(
    database: Database, clock: FakeClock
) -> None:
    async with on_an_incident(database, clock) as scene:
        access, client, number, page = scene.access, scene.client, scene.number, scene.page
        answer = await post_form(client, page, f"{page}/updates", {
            "action": "post", "status": "identified", "body_ja": "原因はノードの同期遅延です",
            "body_en": "A node fell behind; catching up", "component:eth-withdrawals": "degraded_performance",
        })  # fmt: skip
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{page}?done=posted"
        await access.services.publisher.publish_now()
        english = await access.client.get(f"/incidents/{number}?lang=en")
        japanese = await access.client.get(f"/incidents/{number}?lang=ja")
        assert "A node fell behind; catching up" in english.text
        assert "原因はノードの同期遅延です" in japanese.text
        async with database.transaction() as session:
            row = (await session.execute(select(incidents).where(incidents.c.id == number))).one()
        assert row.status == "identified"


async def test_a_refused_update_keeps_the_draft_and_names_the_field(
    database: Database, clock: FakeClock
) -> None:
    async with on_an_incident(database, clock) as scene:
        client, page = scene.client, scene.page
        answer = await post_form(client, page, f"{page}/updates", {
            "action": "post", "status": "identified", "body_ja": "", "body_en": "only English",
        })  # fmt: skip
        assert answer.status_code == 422
        assert "Japanese text: this field is required" in answer.text
        assert "only English" in answer.text
        bad = await post_form(client, page, f"{page}/updates", {
            "action": "post", "status": "fixed", "body_ja": "x", "body_en": "y",
        })  # fmt: skip
        assert bad.status_code == 422 and "Status: &#39;fixed&#39; is not one of" in bad.text


async def test_severity_then_resolve_then_the_report_downloads(
    database: Database, clock: FakeClock
) -> None:
    async with on_an_incident(database, clock) as scene:
        client, number, page = scene.client, scene.number, scene.page
        raised = await post_form(
            client, page, f"{page}/severity", {"severity": "critical", "reason": "all ETH stuck"}
        )
        assert raised.status_code == 303
        resolved = await post_form(
            client, page, f"{page}/resolve", {"body_ja": "復旧しました", "body_en": "Recovered"}
        )
        assert resolved.status_code == 303
        again = await post_form(client, page, f"{page}/resolve", {})
        assert again.status_code == 409 and "resolved" in again.text
        report = await client.get(f"{page}/report.md")
        assert report.status_code == 200
        assert (
            report.headers["content-disposition"]
            == f'attachment; filename="exwatch-incident-{number}.md"'
        )
        assert "all ETH stuck" in report.text
        assert (await client.get(f"{page}/report.pdf")).status_code == 404
        shown = await client.get(page)
        assert (
            "resolved" in shown.text and 'value="post"' not in shown.text
        )  # no forms once resolved
        async with database.transaction() as session:
            row = (await session.execute(select(incidents).where(incidents.c.id == number))).one()
        assert (row.severity, row.status) == ("critical", "resolved")


async def test_unknown_and_malformed_incident_numbers_are_404(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        client = await signed_in(access)
        for number in ("424242", "abc", "0", "-1", "99999999999999999999999", "１２"):
            answer = await client.get(f"/console/incidents/{number}")
            assert answer.status_code == 404, number
            assert "there is no incident" in answer.text


async def test_overriding_a_component_from_now(database: Database, clock: FakeClock) -> None:
    async with running(database, clock) as access:
        client = await signed_in(access, "responder")
        answer = await post_form(client, "/console", "/console/components/override?back=/console", {
            "component": "btc-withdrawals", "status": "under_maintenance", "reason": "wallet rotation",
            "message_en": "BTC withdrawals paused for a wallet rotation",
        })  # fmt: skip
        assert answer.status_code == 303
        unknown = await post_form(client, "/console", "/console/components/override", {
            "component": "nope", "status": "major_outage", "reason": "x",
        })  # fmt: skip
        assert unknown.status_code == 422 and "there is no component" in unknown.text
        cleared = await post_form(client, "/console", "/console/components/override/clear", {
            "component": "btc-withdrawals", "reason": "done",
        })  # fmt: skip
        assert cleared.status_code == 303
        twice = await post_form(client, "/console", "/console/components/override/clear", {
            "component": "btc-withdrawals", "reason": "done",
        })  # fmt: skip
        assert twice.status_code == 409


async def test_postmortem_preview_save_and_publish_once_resolved(
    database: Database, clock: FakeClock
) -> None:
    async with on_an_incident(database, clock) as scene:
        access, client, number, page = scene.access, scene.client, scene.number, scene.page
        text = "## Root cause\n\nA **disk** filled up. <script>alert(1)</script> [x](javascript:alert(1))"
        preview = await post_form(
            client, page, f"{page}/postmortem", {"action": "preview", "markdown": text}
        )
        assert preview.status_code == 200
        assert "<strong>disk</strong>" in preview.text
        assert "<script>alert(1)" not in preview.text and 'href="javascript:' not in preview.text
        saved = await post_form(
            client, page, f"{page}/postmortem", {"action": "save", "markdown": text}
        )
        assert saved.headers["location"] == f"{page}?done=postmortem_saved"
        early = await post_form(client, page, f"{page}/postmortem/publish")
        assert early.status_code == 409 and "only once the incident is resolved" in early.text
        await post_form(client, page, f"{page}/resolve", {"force": "yes"})
        published = await post_form(client, page, f"{page}/postmortem/publish")
        assert published.headers["location"] == f"{page}?done=postmortem_published"
        shown = await client.get(page)
        assert "Published by token:responder-1" in shown.text
        await access.services.publisher.publish_now()
        public = await access.client.get(f"/incidents/{number}?lang=en")
        assert "A <strong>disk</strong> filled up." in public.text


async def test_an_empty_postmortem_is_refused_with_the_field_named(
    database: Database, clock: FakeClock
) -> None:
    async with on_an_incident(database, clock) as scene:
        client, page = scene.client, scene.page
        answer = await post_form(
            client, page, f"{page}/postmortem", {"action": "save", "markdown": "  "}
        )
        assert answer.status_code == 422 and "markdown:" in answer.text
