"""The console end to end over HTTP: sign in, act on an incident, and what it refuses."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from monitor.storage.database import Database
from monitor.storage.tables import audit_log, incidents
from tests.access.support import OPERATOR, running
from tests.console.support import csrf_of, open_incident, post_form, sign_in, signed_in
from tests.support import FakeClock


async def test_signing_in_sets_a_strict_http_only_cookie_and_lands_on_now(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        answer = await sign_in(access.client, OPERATOR)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console"
        cookie = next(
            v
            for k, v in answer.headers.multi_items()
            if k == "set-cookie" and v.startswith("exwatch_console=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert "Secure" not in cookie  # plain http here; https sets it
        now = await access.client.get("/console")
        assert now.status_code == 200
        assert "No open incident." in now.text and "admin · admin" in now.text


async def test_a_wrong_token_is_refused_and_counted(database: Database, clock: FakeClock) -> None:
    async with running(database, clock, failures=2) as access:
        for _ in range(2):
            answer = await sign_in(access.client, "exw_" + "B" * 43)
            assert answer.status_code == 401
            assert "wrong, expired or revoked" in answer.text
        answer = await sign_in(access.client, OPERATOR)
        assert answer.status_code == 429  # the failure limit covers the console too
        assert "Retry-After" in answer.headers


async def test_pages_send_strangers_to_sign_in_and_come_back(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        number = await open_incident(access)
        answer = await access.client.get(f"/console/incidents/{number}")
        assert answer.status_code == 303
        assert (
            answer.headers["location"] == f"/console/sign-in?next=%2Fconsole%2Fincidents%2F{number}"
        )
        back = await sign_in(access.client, OPERATOR, next_path=f"/console/incidents/{number}")
        assert back.headers["location"] == f"/console/incidents/{number}"
        fresh = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=access.app), base_url="http://t"
        )
        for elsewhere in ("https://evil.example/", "//evil.example/console", "/console\\@evil"):
            evil = await sign_in(fresh, OPERATOR, next_path=elsewhere)
            assert evil.headers["location"] == "/console"
            fresh.cookies.clear()


async def test_acknowledge_from_now_records_who_and_audits_it(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        number = await open_incident(access)
        client = await signed_in(access, "responder")
        now = await client.get("/console")
        assert f"Acknowledge #{number}" in now.text and "not acknowledged" in now.text
        answer = await client.post(
            f"/console/incidents/{number}/ack", data={"csrf_token": csrf_of(now.text)}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/console/incidents/{number}?done=acknowledged"
        page = await client.get(answer.headers["location"])
        assert "Acknowledged: escalation stopped." in page.text
        assert "by token:responder-1" in page.text
        again = await client.post(
            f"/console/incidents/{number}/ack", data={"csrf_token": csrf_of(now.text)}
        )
        assert again.status_code == 409
        assert "already acknowledged" in again.text
        async with database.transaction() as session:
            row = (await session.execute(select(incidents).where(incidents.c.id == number))).one()
            audited = (
                await session.execute(
                    select(audit_log).where(
                        audit_log.c.route == "/console/incidents/{incident_id}/ack"
                    )
                )
            ).all()
        assert row.acknowledged_by == "token:responder-1"
        assert [(a.actor, a.status) for a in audited] == [
            ("token:responder-1", 303),
            ("token:responder-1", 409),
        ]
        assert all(csrf_of(now.text) not in (a.summary or "") for a in audited)


async def test_a_post_without_the_csrf_token_is_refused(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        number = await open_incident(access)
        client = await signed_in(access)
        for fields in ({"note": "no token"}, {"csrf_token": "forged"}):
            answer = await client.post(f"/console/incidents/{number}/ack", data=fields)
            assert answer.status_code == 403
            assert "did not come from the console" in answer.text
        async with database.transaction() as session:
            row = (await session.execute(select(incidents).where(incidents.c.id == number))).one()
        assert row.acknowledged_at is None


async def test_a_viewer_sees_but_cannot_act(database: Database, clock: FakeClock) -> None:
    async with running(database, clock) as access:
        number = await open_incident(access)
        client = await signed_in(access, "viewer")
        page = await client.get(f"/console/incidents/{number}")
        assert page.status_code == 200
        assert 'value="post"' not in page.text and '/ack"' not in page.text
        answer = await client.post(
            f"/console/incidents/{number}/ack", data={"csrf_token": csrf_of(page.text)}
        )
        assert answer.status_code == 403
        assert "needs the responder role" in answer.text


async def test_sessions_end_when_idle_too_long_or_the_token_is_revoked(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        client = await signed_in(access, "responder")
        assert (await client.get("/console")).status_code == 200
        clock.advance(2 * 3600 + 1)
        assert (await client.get("/console")).status_code == 303  # idle for more than 2 h
        client = await signed_in(access, "admin")
        assert (await client.get("/console")).status_code == 200
        tokens = (await access.call("GET", "/api/admin/tokens", "operator")).json()
        admin_id = next(t["id"] for t in tokens if t["name"] == "admin-1")
        assert (
            await access.call("DELETE", f"/api/admin/tokens/{admin_id}", "operator")
        ).status_code == 204
        assert (await client.get("/console")).status_code == 303  # revoked: its sessions end


async def test_signing_out_ends_the_session_on_the_server(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        client = await signed_in(access)
        stolen = client.cookies.get("exwatch_console")
        assert stolen
        answer = await post_form(client, "/console", "/console/sign-out")
        assert answer.status_code == 303
        assert re.search(r'exwatch_console="?"?;', answer.headers["set-cookie"]) is not None
        assert (await client.get("/console")).status_code == 303
        replay = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=access.app), base_url="http://t"
        )
        replay.cookies.set("exwatch_console", stolen)
        assert (await replay.get("/console")).status_code == 303  # a copied cookie is dead too


XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)//'"]


async def test_every_field_shown_in_the_console_is_escaped(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        payload = " ".join(XSS)
        number = await open_incident(
            access, name=f"Withdrawals {payload}", name_ja=f"出金 {payload}",
            description=f"Stuck {payload}", body={"ja": f"調査 {payload}", "en": f"Looking {payload}"},
        )  # fmt: skip
        client = await signed_in(access, "responder")
        page = f"/console/incidents/{number}"
        await post_form(
            client, page, f"{page}/severity", {"severity": "critical", "reason": f"why {payload}"}
        )
        preview = await post_form(client, page, f"{page}/updates", {
            "action": "preview", "status": "identified", "body_ja": payload, "body_en": payload,
        })  # fmt: skip
        for html in (
            preview.text,
            (await client.get(page)).text,
            (await client.get("/console")).text,
        ):
            assert "<script>alert(1)" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        fresh = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=access.app), base_url="http://t"
        )
        sign_in_page = await fresh.get(
            "/console/sign-in", params={"next": '/console"><script>alert(1)</script>'}
        )
        assert "<script>alert(1)" not in sign_in_page.text
