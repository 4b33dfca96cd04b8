"""Hypothesis properties: the parser refuses only with PayloadError; resends change nothing."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.alertmanager.payload import (
    MAX_FINGERPRINT,
    PayloadError,
    WebhookPayload,
    label_fingerprint,
    parse_payload,
)
from monitor.alertmanager.routing import route_alert
from monitor.storage.database import Database
from monitor.storage.tables import alerts, components, timeline_events
from tests.alertmanager.support import T0, Receiver, alert, make_config, payload, running
from tests.support import FakeClock

CONFIG = make_config().alertmanager
KNOWN = ("trading-engine", "charts", "btc-withdrawals", "login", "monitoring")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
)
timestamps = st.one_of(
    times.map(lambda moment: moment.isoformat()),
    st.sampled_from(
        ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
    ),
    st.text(max_size=30),
    st.integers(),
)
label_maps = st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=6)
loose_alerts = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["firing", "resolved", "pending", ""]) | json_values,
        "labels": label_maps | json_values,
        "annotations": label_maps | json_values,
        "startsAt": timestamps,
        "endsAt": timestamps,
        "fingerprint": st.text(max_size=200) | json_values,
        "generatorURL": st.text(max_size=50),
        "extra": json_values,
    },
)
loose_payloads = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from(["4", "3", 4]) | st.text(max_size=3),
        "alerts": st.lists(loose_alerts, max_size=4) | json_values,
        "status": st.sampled_from(["firing", "resolved"]) | json_values,
        "truncatedAlerts": st.integers() | json_values,
        "routeLabels": json_values,
    },
)


def _parse_or_refuse(body: bytes) -> WebhookPayload | None:
    try:
        return parse_payload(body)
    except PayloadError as error:
        assert error.status in (400, 422) and error.problems
        assert all(": " in problem for problem in error.problems)
        return None


@given(json_values)
def test_any_json_is_parsed_or_refused_with_a_reason(value: Any) -> None:
    _parse_or_refuse(json.dumps(value).encode())


@given(st.binary(max_size=200))
def test_any_bytes_are_parsed_or_refused_with_a_reason(body: bytes) -> None:
    _parse_or_refuse(body)


@settings(max_examples=300)
@given(loose_payloads)
def test_payload_shaped_input_is_parsed_or_refused(value: dict[str, Any]) -> None:
    parsed = _parse_or_refuse(json.dumps(value).encode())
    if parsed is None:
        return
    for item in parsed.alerts:
        # What is stored must fit its columns, and routing must take any labels.
        assert len(item.episode) <= 64
        assert len(f"alertmanager:{item.alert_fingerprint}") <= 200
        assert item.starts_at.tzinfo is UTC
        route_alert(item.labels, CONFIG, KNOWN)


@given(times, st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_the_episode_is_the_instant_whatever_the_offset(moment: datetime, minutes: int) -> None:
    instant = moment.replace(tzinfo=UTC)
    shifted = instant.astimezone(timezone(timedelta(minutes=minutes)))
    one = alert(starts=instant)
    other = {**one, "startsAt": shifted.isoformat()}
    if instant.year in (1, 9999):
        return  # the shifted form may fall outside the calendar
    episodes = {
        parse_payload(json.dumps(payload(item)).encode()).alerts[0].episode for item in (one, other)
    }
    assert len(episodes) == 1


@given(label_maps)
def test_fingerprints_are_sixteen_hex_digits_and_ignore_label_order(labels: dict[str, str]) -> None:
    fingerprint = label_fingerprint(labels)
    assert len(fingerprint) == 16 <= MAX_FINGERPRINT
    assert label_fingerprint(dict(reversed(labels.items()))) == fingerprint


def test_known_fingerprints() -> None:
    assert label_fingerprint({}) == "cbf29ce484222325"  # FNV-1a's offset: Go's empty label set


# One notification: (fingerprint index, episode index, status, component).
notifications = st.tuples(
    st.integers(0, 1),
    st.integers(0, 2),
    st.sampled_from(["firing", "resolved"]),
    st.sampled_from(["charts", "login"]),
)
_examples = itertools.count()


@pytest.fixture
async def receiver(database: Database) -> AsyncIterator[Receiver]:
    async with running(database, FakeClock()) as value:
        yield value


async def _state(receiver: Receiver) -> tuple[Any, ...]:
    rows = await receiver.rows(alerts)
    statuses = await receiver.rows(components)
    events = await receiver.count(timeline_events)
    return (
        [(r.fingerprint, r.episode, r.status, r.component_id) for r in rows],
        [(r.id, r.status) for r in statuses],
        events,
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(notifications, min_size=1, max_size=6))
async def test_every_resend_changes_nothing(
    receiver: Receiver, sequence: list[tuple[int, int, str, str]]
) -> None:
    """Each notification sent twice, then the whole sequence again: the repeats change nothing."""
    example = next(_examples)  # fingerprints of their own: examples share one database
    bodies = [
        payload(
            alert(
                status,
                starts=T0 + timedelta(minutes=episode),
                fingerprint=f"x{example}-{index}",
                component=component,
                alertname="P",
            )
        )
        for index, episode, status, component in sequence
    ]
    for body in bodies:
        assert (await receiver.post(body)).status_code == 200
        again = (await receiver.post(body)).json()
        assert (again["fired"], again["resolved"], again["unchanged"]) == (0, 0, 1)
    before = await _state(receiver)
    for body in bodies:
        assert (await receiver.post(body)).json()["unchanged"] == 1
    assert await _state(receiver) == before
