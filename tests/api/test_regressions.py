"""Inputs that once ended in a 500, on SQLite and PostgreSQL: each is now a 4xx naming the field.

- a duration given as a JSON object or list (``parse_duration`` raised TypeError);
- an aware time in year 1 or 9999 whose offset has no UTC equivalent (OverflowError);
- NUL in text (PostgreSQL text cannot hold it: the driver failed);
- ids and cursors past 64 bits (the drivers failed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from probes.durations import MAX_SECONDS, parse_duration
from tests.api.conftest import SeededApi
from tests.api.support import INCIDENT, SERIES, WINDOW

NUL = "before\x00after"
PAST_64_BITS = 2**63


async def refused_at(
    seeded: SeededApi, method: str, path: str, body: Any = None
) -> dict[tuple[Any, ...], str]:
    """Send the request; it must be a 422; return its messages by field path."""
    response: httpx.Response = await seeded.api.client.request(method, path, json=body)
    assert response.status_code == 422, (method, path, response.status_code, response.text)
    return {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}


async def test_a_duration_that_is_not_text_or_a_number_is_a_422(seeded: SeededApi) -> None:
    for duration in ({}, [], {"hours": 2}):
        errors = await refused_at(
            seeded, "POST", "/api/admin/maintenance/series", {**SERIES, "duration": duration}
        )
        assert "expected a duration" in errors["body", "duration"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(JSON_VALUES)
def test_parse_duration_returns_seconds_in_range_or_raises_value_error(value: Any) -> None:
    try:
        seconds = parse_duration(value)
    except ValueError:
        return
    assert 0 <= seconds <= MAX_SECONDS
    assert not isinstance(value, bool | list | dict) and value is not None


async def test_a_time_without_a_utc_equivalent_is_refused(seeded: SeededApi) -> None:
    year_one = "0001-01-01T00:00:00+01:00"  # 31 December of year 0 in UTC
    year_max = "9999-12-31T23:00:00-05:00"  # year 10000 in UTC
    window = seeded.ids.windows["scheduled"]
    cases = [
        ("POST", "/api/admin/incidents", {**INCIDENT, "started_at": year_one}, "started_at"),
        ("POST", "/api/admin/maintenance", {**WINDOW, "scheduled_end": year_max}, "scheduled_end"),
        ("PATCH", f"/api/admin/maintenance/{window}", {"scheduled_end": year_max}, "scheduled_end"),
        ("POST", f"/api/admin/maintenance/{window}/extend", {"scheduled_end": year_max},
         "scheduled_end"),
    ]  # fmt: skip
    for method, path, body, field in cases:
        errors = await refused_at(seeded, method, path, body)
        assert "date out of range" in errors["body", field], (path, errors)
    listing = await refused_at(seeded, "GET", f"/api/admin/reports?since={quote(year_one)}")
    assert "date out of range" in listing["query", "since"]
    timeline = await seeded.api.client.get(f"/api/admin/timeline?since={quote(year_one)}")
    assert (timeline.status_code, timeline.json()) == (
        400, {"error": "since: date out of range once converted to UTC"},
    )  # fmt: skip


async def test_nul_in_text_is_a_422_naming_the_field(seeded: SeededApi) -> None:
    incident, window = seeded.ids.acked_incident, seeded.ids.windows["scheduled"]
    update = {"status": "identified", "body_ja": NUL, "body_en": "en"}
    override = {"status": "major_outage", "reason": "halt", "message_en": NUL}
    cases = [
        ("POST", "/api/admin/incidents", {**INCIDENT, "description": NUL}, ("body", "description")),
        ("POST", f"/api/admin/incidents/{incident}/updates", update, ("body", "body_ja")),
        ("POST", f"/api/admin/incidents/{incident}/severity",
         {"severity": "minor", "reason": NUL}, ("body", "reason")),
        ("PUT", "/api/admin/components/login/override", override, ("body", "message_en")),
        ("POST", "/api/admin/maintenance", {**WINDOW, "body_en": NUL}, ("body", "body_en")),
        ("POST", f"/api/admin/maintenance/{window}/cancel", {"reason": NUL}, ("body", "reason")),
        ("GET", "/api/admin/alerts?component=a%00b", None, ("query", "component")),
        ("GET", "/api/admin/deliveries?channel=a%00b", None, ("query", "channel")),
        ("GET", "/api/admin/checks/a%00b", None, ("path", "check_id")),
    ]  # fmt: skip
    for method, path, body, loc in cases:
        errors = await refused_at(seeded, method, path, body)
        assert "must not contain NUL" in errors[loc], (path, errors)


async def test_ids_past_64_bits_are_refused_not_sent_to_the_database(seeded: SeededApi) -> None:
    listing = await refused_at(seeded, "GET", f"/api/admin/deliveries?after_id={PAST_64_BITS}")
    assert ("query", "after_id") in listing
    retry = await refused_at(seeded, "POST", f"/api/admin/deliveries/{PAST_64_BITS}/retry")
    assert ("path", "delivery_id") in retry
