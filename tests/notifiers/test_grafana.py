"""The Grafana channel against a local fake annotations API, alone and through the outbox."""

from __future__ import annotations

import html
import json
import random
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from monitor.config import Config, ConfigError
from monitor.config.notifications import GRAFANA_NOTICES
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.notices import Text
from monitor.reload.plan import plan_reload
from monitor.storage.database import Database
from notifiers import REGISTRY
from notifiers.channel import Outcome
from notifiers.grafana import GrafanaAnnotator, annotation_text, build_grafana_channel
from notifiers.grafana.annotation import millis
from notifiers.grafana.outcomes import created_id
from notifiers.service import NotificationService
from tests.notifiers.fake_grafana import (
    INCIDENT_URL,
    RESOLVED,
    STARTED,
    TOKEN,
    Answer,
    FakeGrafana,
    delivery_of,
    incident_notice,
    too_many,
)
from tests.notifiers.outbox_support import Outbox, outbox_config
from tests.support import FakeClock

TOKEN_ENV = "EXWATCH_GRAFANA_TOKEN"
ENV = {TOKEN_ENV: TOKEN}
NOW = 1_800_000_000.0
TAGS = ["exwatch", "severity:critical", "component:trading-engine", "component:btc-withdrawals"]


def grafana_config(url: str, **settings: Any) -> Config:
    """The outbox test config with ``notifications.grafana`` pointing at ``url``."""
    return outbox_config(grafana={"url": url, "api_token_env": TOKEN_ENV, **settings})


def annotator(config: Config, env: dict[str, str] = ENV) -> GrafanaAnnotator:
    channel = build_grafana_channel(config, env, clock=lambda: NOW)
    assert channel is not None
    return channel


@pytest.fixture
async def fake() -> AsyncIterator[FakeGrafana]:
    async with FakeGrafana() as api:
        yield api


@pytest.fixture
async def channel(fake: FakeGrafana) -> AsyncIterator[GrafanaAnnotator]:
    grafana = annotator(grafana_config(fake.url, dashboard_uid="exwatch-overview"))
    try:
        yield grafana
    finally:
        await grafana.aclose()


async def test_an_opening_posts_a_point_with_tags_text_and_the_bearer_token(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    outcome = await channel.send(delivery_of(incident_notice()))
    assert (outcome.outcome, outcome.external_id) == (Outcome.OK, "1")
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/grafana/api/annotations")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.body == {
        "time": 1_795_165_200_000,  # 2026-11-20T09:00:00Z in epoch milliseconds
        "tags": TAGS,
        "text": f'約定遅延 / Order matching delayed<br><a href="{INCIDENT_URL}">{INCIDENT_URL}</a>',
        "dashboardUID": "exwatch-overview",
    }
    assert "timeEnd" not in request.body  # a point until the incident ends


async def test_the_resolution_patches_that_annotation_into_a_region(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    opened = await channel.send(delivery_of(incident_notice()))
    assert opened.external_id is not None
    resolved = incident_notice("incident_resolved", resolved_at=RESOLVED)
    outcome = await channel.send(delivery_of(resolved, thread=(opened.external_id,)))
    assert (outcome.outcome, outcome.external_id) == (Outcome.OK, opened.external_id)
    patch = fake.requests[-1]
    assert (patch.method, patch.path) == ("PATCH", f"/grafana/api/annotations/{opened.external_id}")
    assert patch.headers["authorization"] == f"Bearer {TOKEN}"
    assert patch.body["timeEnd"] == millis(RESOLVED) == 1_795_167_750_250
    region = fake.annotations[int(opened.external_id)]
    assert (region["time"], region["timeEnd"]) == (millis(STARTED), millis(RESOLVED))
    assert len(fake.annotations) == 1


async def test_a_severity_change_updates_the_tags(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    opened = await channel.send(delivery_of(incident_notice()))
    assert opened.external_id is not None
    lowered = incident_notice("severity_changed", severity="moderate")
    outcome = await channel.send(delivery_of(lowered, thread=(opened.external_id,)))
    assert outcome.outcome is Outcome.OK
    tags = fake.annotations[int(opened.external_id)]["tags"]
    assert "severity:moderate" in tags and "severity:critical" not in tags
    assert "timeEnd" not in fake.requests[-1].body  # still open: still a point


async def test_a_429_is_retryable_after_retry_after_then_the_retry_succeeds(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    fake.fail_next(too_many(7))
    first = await channel.send(delivery_of(incident_notice()))
    assert (first.outcome, first.retry_after) == (Outcome.RETRYABLE, 7.0)
    assert "HTTP 429" in first.reason
    second = await channel.send(delivery_of(incident_notice()))
    assert (second.outcome, second.external_id) == (Outcome.OK, "1")
    assert len(fake.annotations) == 1


async def test_server_errors_and_an_unreachable_grafana_are_retryable(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    fake.fail_next(Answer(503, {"message": "database is locked"}))
    outcome = await channel.send(delivery_of(incident_notice()))
    assert outcome.outcome is Outcome.RETRYABLE and "HTTP 503" in outcome.reason
    closed = annotator(grafana_config("http://127.0.0.1:9"))
    try:
        outcome = await closed.send(delivery_of(incident_notice()))
    finally:
        await closed.aclose()
    assert outcome.outcome is Outcome.RETRYABLE and "unreachable" in outcome.reason


async def test_a_rejected_token_is_permanent_and_names_its_variable(fake: FakeGrafana) -> None:
    wrong = annotator(grafana_config(fake.url), {TOKEN_ENV: "glsa_revoked"})
    try:
        outcome = await wrong.send(delivery_of(incident_notice()))
    finally:
        await wrong.aclose()
    assert outcome.outcome is Outcome.PERMANENT
    assert "HTTP 401" in outcome.reason and TOKEN_ENV in outcome.reason
    assert "glsa_revoked" not in outcome.reason  # the secret itself is never in a reason
    assert fake.annotations == {}


async def test_a_forbidden_or_bad_request_is_permanent(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    fake.fail_next(
        Answer(403, {"message": "You'll need additional permissions"}),
        Answer(400, {"message": "bad request data"}),
    )
    forbidden = await channel.send(delivery_of(incident_notice()))
    assert forbidden.outcome is Outcome.PERMANENT
    assert "HTTP 403" in forbidden.reason and TOKEN_ENV in forbidden.reason
    bad = await channel.send(delivery_of(incident_notice()))
    assert (bad.outcome, bad.reason) == (
        Outcome.PERMANENT,
        'HTTP 400: {"message": "bad request data"}',
    )


async def test_an_annotation_deleted_in_grafana_is_created_again_as_a_region(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    resolved = incident_notice("incident_resolved", resolved_at=RESOLVED)
    outcome = await channel.send(delivery_of(resolved, thread=("41",)))
    assert (outcome.outcome, outcome.external_id) == (Outcome.OK, "1")
    assert [(r.method, r.path) for r in fake.requests] == [
        ("PATCH", "/grafana/api/annotations/41"),
        ("POST", "/grafana/api/annotations"),
    ]
    created = fake.annotations[1]
    assert (created["time"], created["timeEnd"]) == (millis(STARTED), millis(RESOLVED))


async def test_without_a_dashboard_the_annotation_is_organisation_wide(fake: FakeGrafana) -> None:
    grafana = annotator(grafana_config(fake.url, tags=["exwatch", "prod"]))
    try:
        outcome = await grafana.send(delivery_of(incident_notice()))
    finally:
        await grafana.aclose()
    assert outcome.outcome is Outcome.OK
    body = fake.requests[0].body
    assert "dashboardUID" not in body and body["tags"][:3] == [
        "exwatch",
        "prod",
        "severity:critical",
    ]


async def test_an_answer_without_an_id_is_permanent_not_a_second_annotation(
    channel: GrafanaAnnotator, fake: FakeGrafana
) -> None:
    fake.fail_next(Answer(200, {"message": "Annotation added"}))
    outcome = await channel.send(delivery_of(incident_notice()))
    assert outcome.outcome is Outcome.PERMANENT and "without an annotation id" in outcome.reason


# Through the outbox: planned with the events, the annotation id carried by the thread.

MAJOR = ComponentStatus.MAJOR_OUTAGE
TEXT = {"ja": "調査中です", "en": "We are investigating"}


async def grafana_outbox(
    database: Database, clock: FakeClock, config: Config
) -> tuple[Outbox, GrafanaAnnotator]:
    """The outbox harness with the real Grafana channel beside its recording ones."""
    box = Outbox(database, config, clock)
    await box.engine.start()
    grafana = annotator(config)
    box.service = NotificationService(
        database=database, config=config, clock=clock,
        channels={**box.channels, "grafana": grafana}, subscriptions=box.subscriptions,
        acks=box.acks, registry=CollectorRegistry(), rng=random.Random(7),
    )  # fmt: skip
    box.dispatcher = box.service.dispatcher
    return box, grafana


async def test_through_the_outbox_the_annotation_id_reaches_the_resolution(
    database: Database, clock: FakeClock, fake: FakeGrafana
) -> None:
    box, grafana = await grafana_outbox(database, clock, grafana_config(fake.url))
    try:
        started = clock.now()
        incident = await box.open_manual({"btc-trading": MAJOR}, severity="critical")
        fake.fail_next(too_many(30))  # the first POST is turned away once
        await box.drain()
        [row] = await box.rows(channel="grafana")
        assert row.status == "pending" and "HTTP 429" in (row.last_error or "")
        clock.advance(120)
        await box.drain()
        await box.responder.post(incident, IncidentStatus.IDENTIFIED, TEXT, clock.now(), actor="a")
        await box.responder.change_severity(
            incident, Severity.MODERATE, "one market only", clock.advance(60), actor="a"
        )
        resolved_at = clock.advance(600)
        await box.responder.post(incident, IncidentStatus.RESOLVED, TEXT, resolved_at, actor="a")
        await box.drain()
    finally:
        await grafana.aclose()
    rows = await box.rows(channel="grafana")
    # Opened, severity changed, resolved: the update in between is not annotated.
    assert [(r.status, r.external_id, r.recipient) for r in rows] == [
        ("sent", "1", "grafana:annotations")
    ] * 3
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", "/grafana/api/annotations"),
        ("POST", "/grafana/api/annotations"),
        ("PATCH", "/grafana/api/annotations/1"),
        ("PATCH", "/grafana/api/annotations/1"),
    ]
    annotation = fake.annotations[1]
    assert (annotation["time"], annotation["timeEnd"]) == (millis(started), millis(resolved_at))
    assert (
        "severity:moderate" in annotation["tags"] and "component:btc-trading" in annotation["tags"]
    )
    assert annotation["text"].endswith(
        f'/incidents/{incident}">https://status.example.com/incidents/{incident}</a>'
    )


# Configuration: every bad value is an error naming its field.


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"url": "grafana:3000"}, "notifications.grafana.url"),
        ({"api_token_env": "grafana_token"}, "notifications.grafana.api_token_env"),
        ({"dashboard_uid": "my dashboard"}, "notifications.grafana.dashboard_uid"),
        ({"tags": ["exwatch", " padded"]},
         "notifications.grafana.tags[1]: a tag has no control characters"),
        ({"tags": [""]}, "notifications.grafana.tags[0]"),
        ({"filter": {"events": ["incident_opened", "update_posted"]}},
         "notifications.grafana.filter.events[1]"),
        ({"filter": {"components": ["btc-tradin"]}},
         "notifications.grafana.filter.components[0]: unknown component 'btc-tradin'"),
        ({"token": "glsa_inline"}, "notifications.grafana.token: unknown key"),
    ],
)  # fmt: skip
def test_each_bad_setting_is_an_error_naming_its_field(
    settings: dict[str, Any], expected: str
) -> None:
    section = {"url": "http://grafana:3000", "api_token_env": TOKEN_ENV, **settings}
    with pytest.raises(ConfigError) as raised:
        outbox_config(grafana=section)
    assert expected in str(raised.value)


def test_the_token_variable_is_required_and_must_be_set() -> None:
    with pytest.raises(ConfigError, match=r"notifications\.grafana\.api_token_env: required"):
        outbox_config(grafana={"url": "http://grafana:3000"})
    config = grafana_config("http://grafana:3000")
    expected = f"notifications.grafana.api_token_env: environment variable {TOKEN_ENV} is not set"
    with pytest.raises(ConfigError) as raised:
        REGISTRY.build(config, {TOKEN_ENV: ""})
    assert expected in raised.value.problems
    assert "grafana" in REGISTRY.names()


def test_the_defaults_annotate_every_incident_with_the_exwatch_tag() -> None:
    settings = grafana_config("http://grafana:3000").notifications.grafana
    assert settings is not None
    assert settings.tags == ("exwatch",) and settings.dashboard_uid is None
    assert settings.filter.events == GRAFANA_NOTICES and len(settings.filter.severities) == 3
    assert outbox_config().notifications.grafana is None
    assert build_grafana_channel(outbox_config(), ENV) is None


def test_a_reload_keeps_the_running_channel_settings_and_applies_the_filter() -> None:
    running = grafana_config("http://grafana:3000")
    loaded = grafana_config("http://grafana.internal:3000", filter={"severities": ["critical"]})
    plan = plan_reload(running, loaded, source="test")
    assert plan.report.restart_required == ("notifications.grafana.url",)
    grafana = plan.config.notifications.grafana
    assert grafana is not None and str(grafana.url) == "http://grafana:3000/"
    assert [str(s) for s in grafana.filter.severities] == ["critical"]  # routing follows live
    added = plan_reload(outbox_config(), running, source="test")
    assert added.report.restart_required == ("notifications.grafana",)
    assert added.config.notifications.grafana is None  # no channel until a restart builds it


# Parsing Grafana's answers and escaping titles: properties over any input.


@given(st.binary(max_size=200))
def test_any_answer_body_gives_a_positive_id_or_none(body: bytes) -> None:
    found = created_id(body)
    assert found is None or (found.isdigit() and int(found) > 0)


@given(st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none(), st.floats()))
def test_only_a_positive_integer_id_is_taken(value: Any) -> None:
    body = json.dumps({"message": "Annotation added", "id": value}).encode()
    positive = isinstance(value, int) and not isinstance(value, bool) and value > 0
    assert created_id(body) == (str(value) if positive else None)


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_title_is_always_escaped_text(ja: str, en: str) -> None:
    notice = incident_notice(title=Text(ja, en))
    assert notice.incident is not None
    text = annotation_text(notice.incident)
    head, _, link = text.partition("<br>")
    assert "<" not in head and ">" not in head
    assert ja.strip() in html.unescape(head)
    assert link == f'<a href="{INCIDENT_URL}">{INCIDENT_URL}</a>'


def test_times_are_exact_epoch_milliseconds() -> None:
    assert millis(datetime.fromisoformat("1970-01-01T00:00:00.001+00:00")) == 1
    assert millis(RESOLVED) == int(RESOLVED.timestamp()) * 1000 + 250
