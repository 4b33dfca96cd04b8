"""A subscriber's data on request: export and erase by address (admin only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.storage.database import Database
from monitor.subscriptions import Choice, Requested
from tests.reload.support import Running, running
from tests.support import FakeClock

EXPORT, ERASE = "/api/admin/subscribers/export", "/api/admin/subscribers/erase"


async def subscribe(exwatch: Running, address: str) -> int:
    outcome = await exwatch.services.subscriptions.subscribe(
        address, Choice("en", ("spot",)), client="192.0.2.1"
    )
    assert isinstance(outcome, Requested)
    return outcome.subscriber_id


async def test_export_by_address_holds_what_is_stored_and_no_secret(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        subscriber_id = await subscribe(exwatch, "Alice@Example.COM")
        response = await exwatch.call("POST", EXPORT, json={"address": " alice@example.com "})
        assert response.status_code == 200, response.text
        document = response.json()
        assert (document["id"], document["address"], document["state"]) == (
            subscriber_id, "alice@example.com", "pending",
        )  # fmt: skip
        assert document["pending_change"] == {"language": "en", "components": ["spot"]}
        assert len(document["recent_requests"]) == 1
        assert "nonce" not in document and "generation" not in document


async def test_erase_by_address_removes_the_subscriber(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        subscriber_id = await subscribe(exwatch, "bob@example.com")
        erased = await exwatch.call(
            "POST", ERASE, json={"address": "BOB@example.com"}, caller="admin"
        )
        assert erased.json() == {"erased": subscriber_id}
        gone = await exwatch.call("POST", EXPORT, json={"address": "bob@example.com"})
        assert gone.status_code == 404
        again = await exwatch.call("POST", ERASE, json={"address": "bob@example.com"})
        assert again.status_code == 404
        [event] = await exwatch.events("subscriber_deleted")
        assert event.actor == "token:admin-1"
        assert event.data == {"subscriber_id": subscriber_id, "on_request": True}


@pytest.mark.parametrize("path", [EXPORT, ERASE])
async def test_a_non_address_is_422_naming_the_field(
    database: Database, clock: FakeClock, tmp_path: Path, path: str
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        response = await exwatch.call("POST", path, json={"address": "not an address"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "address"]


@pytest.mark.parametrize("caller", ["viewer", "responder"])
async def test_only_an_admin_sees_or_erases_a_subscriber(
    database: Database, clock: FakeClock, tmp_path: Path, caller: str
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        await subscribe(exwatch, "carol@example.com")
        for path in (EXPORT, ERASE):
            response = await exwatch.call("POST", path, json={"address": "carol@example.com"},
                                          caller=caller)  # fmt: skip
            assert response.status_code == 403
        assert (
            await exwatch.call("POST", EXPORT, json={"address": "carol@example.com"})
        ).status_code == 200
