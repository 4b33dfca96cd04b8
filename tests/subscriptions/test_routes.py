"""The subscription routes over HTTP on SQLite and PostgreSQL: the round trip, bad links, limits,
the same answer for every address, privacy of addresses, and the admin API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from urllib.parse import urlencode

import pytest

from monitor.storage.database import Database
from monitor.subscriptions import SubscriptionLimits
from tests.subscriptions.support import AUTH, FORM, Served, serve, token_of
from tests.support import FakeClock

ADDRESS = "alice@example.com"
ALICE = {"email": "  Alice@Example.COM ", "language": "ja", "components": ["spot", "website"]}


@pytest.fixture
async def served(database: Database, clock: FakeClock) -> AsyncIterator[Served]:
    async with serve(database, clock) as running:
        yield running


def link(html: str, path: str) -> str:
    """Return the first link to ``path`` in a page (unescaped)."""
    match = re.search(rf'href="({re.escape(path)}\?[^"]+)"', html)
    assert match is not None, f"no link to {path}"
    return unescape(match.group(1))


def hidden_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match is not None
    return unescape(match.group(1))


def checked(html: str) -> list[str]:
    return re.findall(r'value="([^"]+)" checked', html)


async def test_the_whole_round_trip_with_forms(served: Served) -> None:
    page = await served.call("GET", "/subscribe?lang=ja")
    assert page.status_code == 200
    assert 'action="/subscribe"' in page.text and 'name="email"' in page.text
    assert "現物取引" in page.text and "取引" in page.text  # components by group, in Japanese

    sent = await served.subscribe_form(ALICE)
    assert (sent.status_code, sent.headers["location"]) == (303, "/subscribe/sent?lang=ja")
    inbox = await served.call("GET", sent.headers["location"])
    assert inbox.status_code == 200 and "確認メールをご確認ください" in inbox.text
    assert "48" in inbox.text

    confirmed = await served.call("GET", await served.confirm_link(ADDRESS))
    assert confirmed.status_code == 200 and "登録が完了しました" in confirmed.text
    manage_link = link(confirmed.text, "/subscriptions/manage")

    manage = await served.call("GET", manage_link)
    assert manage.status_code == 200
    assert checked(manage.text) == ["ja", "spot", "website"]
    token = hidden_token(manage.text)

    fields = {"token": token, "language": "en", "components": ["btc-withdrawals"]}
    saved = await served.call(
        "POST", "/subscriptions/manage", content=urlencode(fields, doseq=True), headers=FORM
    )
    assert saved.status_code == 303
    after = await served.call("GET", saved.headers["location"])
    assert "Your preferences were saved." in after.text
    assert checked(after.text) == ["en", "btc-withdrawals"]
    [row] = await served.subscriptions.recipients(["btc-withdrawals"])
    assert (row.address, row.language) == (ADDRESS, "en")
    assert await served.subscriptions.recipients(["spot", "website"]) == []

    ask = await served.call("GET", link(after.text, "/unsubscribe"))
    assert ask.status_code == 200 and 'action="/subscriptions/unsubscribe"' in ask.text
    left = await served.call(
        "POST", "/subscriptions/unsubscribe",
        content=urlencode({"token": hidden_token(ask.text)}), headers=FORM,
    )  # fmt: skip
    assert left.status_code == 200 and "You are unsubscribed" in left.text
    assert await served.subscriptions.recipients(["btc-withdrawals"]) == []
    assert (await served.subscriber(ADDRESS)).state == "unsubscribed"  # type: ignore[union-attr]


async def test_the_round_trip_in_json(served: Served) -> None:
    body = {"email": ADDRESS, "language": "en", "components": "all"}
    accepted = await served.call("POST", "/subscribe", json=body)
    assert accepted.status_code == 202
    assert accepted.json() == {"status": "confirmation_requested"}
    confirmed = await served.call("GET", await served.confirm_link(ADDRESS))
    token = token_of(link(confirmed.text, "/subscriptions/manage"))
    changed = await served.call(
        "POST", "/subscriptions/manage",
        json={"token": token, "language": "ja", "components": ["spot"]},
    )  # fmt: skip
    assert changed.json() == {"state": "active", "language": "ja", "components": ["spot"]}
    left = await served.call("POST", "/subscriptions/unsubscribe", json={"token": token})
    assert left.json() == {"state": "unsubscribed", "language": "ja", "components": ["spot"]}


@pytest.mark.parametrize("multipart", [False, True])
async def test_rfc_8058_one_click_unsubscribe(served: Served, multipart: bool) -> None:
    await served.call("POST", "/subscribe", json={**ALICE, "email": ADDRESS})
    await served.call("GET", await served.confirm_link(ADDRESS))
    [row] = await served.subscriptions.recipients(["spot"])
    url = served.subscriptions.mail_links(row).unsubscribe_url.removeprefix(
        "https://status.example.com"
    )
    if multipart:
        response = await served.call("POST", url, files={"List-Unsubscribe": (None, "One-Click")})
    else:
        response = await served.call(
            "POST", url, content="List-Unsubscribe=One-Click", headers=FORM
        )
    assert response.status_code == 200
    assert await served.subscriptions.recipients(["spot"]) == []
    shown = await served.call("GET", url)  # a person opening the link gets the button, not a change
    assert shown.status_code == 200 and "<button" in shown.text


async def test_forged_and_expired_links_answer_400_and_offer_to_subscribe_again(
    served: Served,
) -> None:
    await served.subscribe_form(ALICE)
    confirm = await served.confirm_link(ADDRESS)
    token = token_of(confirm)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (
        f"/subscribe/confirm?token={forged}",
        "/subscribe/confirm",
        f"/subscriptions/manage?token={token}",  # a confirm token is no manage token
        f"/unsubscribe?token={forged}",
        "/subscriptions/manage?token=" + "x" * 5000,
    ):
        response = await served.call("GET", path)
        assert response.status_code == 400, path
        assert 'href="/subscribe?lang=' in response.text
    posted = await served.call(
        "POST", "/subscriptions/unsubscribe", content=f"token={forged}", headers=FORM
    )
    assert posted.status_code == 400
    served.clock.advance(48 * 3600)
    expired = await served.call("GET", confirm, headers={"accept-language": "en"})
    assert expired.status_code == 400 and "This link has expired." in expired.text
    assert (await served.subscriber(ADDRESS)).state == "pending"  # type: ignore[union-attr]


async def test_every_address_gets_the_same_answer(served: Served) -> None:
    """New, pending, active and unsubscribed addresses cannot be told apart by the answer."""
    await served.subscribe_form({**ALICE, "email": "pending@example.com"})
    await served.subscribe_form({**ALICE, "email": "active@example.com"})
    await served.call("GET", await served.confirm_link("active@example.com"))
    answers = []
    for n, email in enumerate(["new@example.com", "pending@example.com", "ACTIVE@example.com"]):
        form = await served.subscribe_form({**ALICE, "email": email}, address=f"192.0.2.{n}")
        data = await served.call(
            "POST", "/subscribe", json={**ALICE, "email": email}, address=f"198.51.100.{n}"
        )
        answers.append((form.status_code, form.headers.get("location"), form.content,
                        data.status_code, data.content))  # fmt: skip
    assert answers[0] == answers[1] == answers[2]
    counts = (await served.call("GET", "/api/admin/subscribers", headers=AUTH)).json()["counts"]
    assert counts["pending"] == {"ja": 2} and counts["active"] == {"ja": 1}  # no duplicates


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"language": "en", "components": "all"}, 422, "email"),
        ({"email": "not an address", "language": "en", "components": "all"}, 422, "email"),
        ({"email": ADDRESS, "language": "fr", "components": "all"}, 422, "language"),
        ({"email": ADDRESS, "language": "en"}, 422, "components"),
        ({"email": ADDRESS, "language": "en", "components": []}, 422, "components"),
        ({"email": ADDRESS, "language": "en", "components": ["nope"]}, 422, "components"),
        ({"email": 7, "language": "en", "components": "all"}, 422, "email"),
        (["not", "an", "object"], 400, "request body"),
    ],
)
async def test_bad_json_names_the_field(
    served: Served, body: object, status: int, field: str
) -> None:
    response = await served.call("POST", "/subscribe", json=body)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert (await served.call("GET", "/api/admin/subscribers", headers=AUTH)).json()[
        "subscribers"
    ] == []


async def test_bad_posts_answer_a_4xx_page_in_the_visitors_language(served: Served) -> None:
    missing = await served.subscribe_form({"email": "x@", "language": "ja", "components": "all"})
    assert missing.status_code == 422 and "メールアドレスを正しく入力してください" in missing.text
    empty = await served.subscribe_form({"email": ADDRESS, "language": "en"})
    assert empty.status_code == 422 and "Choose at least one component" in empty.text
    wrong = await served.call(
        "POST", "/subscribe", content="email=a", headers={"content-type": "text/plain"}
    )
    assert wrong.status_code == 415
    huge = await served.call("POST", "/subscribe", content="a=" + "b" * 20000, headers=FORM)
    assert huge.status_code == 413
    broken = await served.call(
        "POST", "/subscribe", content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["field"] == "request body"


async def test_too_many_requests_from_one_client_answer_429(
    database: Database, clock: FakeClock
) -> None:
    limits = SubscriptionLimits(per_client=2, per_client_window=600)
    async with serve(database, clock, limits) as served:
        for n in range(2):
            ok = await served.subscribe_form({**ALICE, "email": f"u{n}@example.com"})
            assert ok.status_code == 303
        refused = await served.subscribe_form({**ALICE, "email": "u3@example.com"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "600"
        assert "10分後" in refused.text
        data = await served.call("POST", "/subscribe", json={**ALICE, "email": "u4@example.com"})
        assert data.status_code == 429 and data.json()["retry_after"] == 600
        other = await served.subscribe_form(
            {**ALICE, "email": "u5@example.com"}, address="192.0.2.99"
        )
        assert other.status_code == 303  # another client is not held back
        assert await served.subscriber("u3@example.com") is None


async def test_too_many_confirmations_for_one_address_answer_429(served: Served) -> None:
    for n in range(3):
        response = await served.subscribe_form(ALICE, address=f"192.0.2.{n}")
        assert response.status_code == 303
    served.clock.advance(60)
    refused = await served.call(
        "POST", "/subscribe", json={**ALICE, "language": "en"}, address="203.0.113.7"
    )
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(3600 - 60)
    assert "this address" in refused.json()["error"]
    assert len(await served.events()) == 3


async def test_an_address_never_appears_on_a_public_page_or_the_timeline(served: Served) -> None:
    await served.subscribe_form({**ALICE, "email": "Zelda.Private@Secret-Mail.org"})
    confirmed = await served.call("GET", await served.confirm_link("zelda.private@secret-mail.org"))
    manage_link = link(confirmed.text, "/subscriptions/manage")
    token = token_of(manage_link)
    await served.services.publisher.publish_now()
    pages = [
        confirmed,
        await served.call("GET", "/"),
        await served.call("GET", "/?lang=en"),
        await served.call("GET", "/api/v2/summary.json"),
        await served.call("GET", "/subscribe"),
        await served.call("GET", "/subscribe/sent"),
        await served.call("GET", manage_link),
        await served.call("GET", f"/unsubscribe?token={token}"),
        await served.call("POST", "/subscriptions/unsubscribe", data={"token": token}),
        await served.call("GET", "/api/admin/subscribers"),  # 401 without the token
    ]
    for response in pages:
        assert response.status_code in (200, 401), response.url
        lowered = response.text.lower()
        assert "zelda" not in lowered and "secret-mail" not in lowered, response.url
    for event in await served.events():
        assert "zelda" not in repr(tuple(event)).lower()
        assert token not in repr(tuple(event))


async def test_private_pages_are_not_cached_framed_or_referred(served: Served) -> None:
    await served.subscribe_form(ALICE)
    confirmed = await served.call("GET", await served.confirm_link(ADDRESS))
    for response in (confirmed, await served.call("GET", "/subscribe")):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_page_language_follows_the_visitor_and_the_subscriber(served: Served) -> None:
    english = await served.call("GET", "/subscribe", headers={"accept-language": "en-GB,en"})
    assert 'lang="en"' in english.text and "Get email updates" in english.text
    assert 'href="/subscribe?lang=ja"' in english.text
    await served.subscribe_form(ALICE)  # chose Japanese
    confirmed = await served.call(
        "GET", await served.confirm_link(ADDRESS), headers={"accept-language": "en"}
    )
    assert 'lang="ja"' in confirmed.text
    switched = await served.call("GET", link(confirmed.text, "/subscriptions/manage") + "&lang=en")
    assert 'lang="en"' in switched.text


async def test_admin_routes_need_the_token(served: Served) -> None:
    await served.subscribe_form(ALICE)
    await served.call("GET", await served.confirm_link(ADDRESS))
    await served.subscribe_form({**ALICE, "email": "bob@example.com", "language": "en"})
    assert (await served.call("GET", "/api/admin/subscribers")).status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert (await served.call("GET", "/api/admin/subscribers", headers=wrong)).status_code == 401
    listing = (await served.call("GET", "/api/admin/subscribers", headers=AUTH)).json()
    assert listing["counts"] == {
        "pending": {"en": 1}, "active": {"ja": 1}, "unsubscribed": {}
    }  # fmt: skip
    assert [(s["address"], s["state"]) for s in listing["subscribers"]] == [
        (ADDRESS, "active"), ("bob@example.com", "pending")
    ]  # fmt: skip
    page = await served.call("GET", "/api/admin/subscribers?state=active&limit=1", headers=AUTH)
    assert [s["address"] for s in page.json()["subscribers"]] == [ADDRESS]
    bad = await served.call("GET", "/api/admin/subscribers?state=gone", headers=AUTH)
    assert bad.status_code == 422
    bob = listing["subscribers"][1]["id"]
    assert (await served.call("DELETE", f"/api/admin/subscribers/{bob}")).status_code == 401
    deleted = await served.call("DELETE", f"/api/admin/subscribers/{bob}", headers=AUTH)
    assert deleted.status_code == 204
    again = await served.call("DELETE", f"/api/admin/subscribers/{bob}", headers=AUTH)
    assert again.status_code == 404
    assert await served.subscriber("bob@example.com") is None
    [event] = await served.events("subscriber_deleted")
    assert (event.data, event.actor) == ({"subscriber_id": bob}, "admin")
