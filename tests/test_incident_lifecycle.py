"""Incident lifecycle on SQLite and PostgreSQL: recovery, auto-resolve, reopen, grouping windows,
time budgets, escalation, reminders and flapping, driven by a fake clock; and restarts between steps.
"""

from __future__ import annotations

import pytest

from monitor.alert_input import NewAlert
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.storage.alerts import firing_alert
from monitor.storage.database import Database
from tests.lifecycle_support import Lifecycle, lifecycle, lifecycle_config
from tests.support import FAIL, OK, FakeClock

TE = "trading-engine-check"


@pytest.fixture
async def h(database: Database, clock: FakeClock) -> Lifecycle:
    return await lifecycle(database, lifecycle_config(), clock)


async def test_recovery_moves_to_monitoring_then_resolves_after_quiet(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL, OK, OK)
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.MONITORING
    assert incident.recovered_at == h.clock.now()
    await h.tick_after(14 * 60)  # critical waits 15 minutes
    assert (await h.incidents())[0].status == IncidentStatus.MONITORING
    await h.tick_after(60)
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.RESOLVED
    assert await h.update_statuses(incident.id) == ["investigating", "monitoring", "resolved"]
    [resolved] = await h.events("incident_resolved")
    assert resolved.reason == "recovered for 15m with no alert firing again"


async def test_failing_again_while_monitoring_keeps_the_same_incident(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL, OK, OK)
    await h.tick_after(60)
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.recovered_at is None
    assert len(await h.events("recovery_interrupted")) == 1
    await h.tick_after(3600)  # not recovered: never resolved by the clock
    assert (await h.incidents())[0].status == IncidentStatus.INVESTIGATING


async def test_critical_can_wait_for_a_human(database: Database, clock: FakeClock) -> None:
    config = lifecycle_config(incidents={"resolve_after": {"critical": None}})
    h = await lifecycle(database, config, clock)
    await h.feed(TE, FAIL, FAIL, OK, OK)
    await h.tick_after(86400)
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.MONITORING
    await h.responder.resolve(incident.id, clock.now(), actor="alice")
    [incident] = await h.incidents()
    assert incident.status == IncidentStatus.RESOLVED
    [event] = await h.events("incident_resolved")
    assert (event.actor, event.reason) == ("alice", "resolved by alice")


@pytest.mark.parametrize(
    ("quiet_minutes", "incidents"), [(10, 1), (40, 2)], ids=["within-window", "after-window"]
)
async def test_the_same_alert_within_reopen_window_reopens(
    database: Database, clock: FakeClock, quiet_minutes: int, incidents: int
) -> None:
    config = lifecycle_config(incidents={"resolve_after": {"critical": "0s"}})
    h = await lifecycle(database, config, clock)
    await h.feed(TE, FAIL, FAIL, OK, OK)
    assert (await h.incidents())[0].status == IncidentStatus.RESOLVED
    clock.advance(quiet_minutes * 60)
    await h.feed(TE, FAIL, FAIL)
    rows = await h.incidents()
    assert len(rows) == incidents
    assert rows[-1].status == IncidentStatus.INVESTIGATING
    assert len(await h.events("incident_reopened")) == (1 if incidents == 1 else 0)


async def test_a_related_component_joins_only_within_the_group_window(h: Lifecycle) -> None:
    await h.feed("market-data-check", FAIL, FAIL)
    await h.feed("charts-check", FAIL, FAIL)  # depends on market-data, which is down
    assert len(await h.incidents()) == 1
    await h.feed("market-data-check", OK, OK)  # the parent recovers; charts still fails
    h.clock.advance(600)  # past group_window (5 minutes)
    await h.feed("market-data-check", FAIL, FAIL)  # already in the open incident: joins it
    assert len(await h.incidents()) == 1


async def test_a_child_of_a_down_parent_joins_its_incident_after_the_window(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    h.clock.advance(3600)
    await h.feed("order-entry-check", FAIL, FAIL)
    [incident] = await h.incidents()
    assert len(await h.events("component_joined")) == 1
    assert incident.severity == Severity.CRITICAL


async def test_a_related_component_after_the_window_opens_its_own(h: Lifecycle) -> None:
    await h.feed("order-entry-check", FAIL, FAIL)  # the child fails, the parent is fine
    h.clock.advance(600)
    await h.feed("btc-trading-check", FAIL, FAIL)  # a sibling, linked through the parent
    assert len(await h.incidents()) == 2


async def test_past_the_time_budget_the_incident_rises_one_class(h: Lifecycle) -> None:
    await h.feed("btc-withdrawals-check", FAIL, FAIL)
    [incident] = await h.incidents()
    assert incident.severity == Severity.MODERATE
    await h.tick_after(2 * 3600)
    [incident] = await h.incidents()
    assert incident.severity == Severity.CRITICAL
    assert incident.severity_reason == (
        "critical: unresolved for 2h, past the moderate time budget"
    )
    await h.tick_after(24 * 3600)  # critical has no budget and never falls by itself
    assert (await h.incidents())[0].severity == Severity.CRITICAL


async def test_a_security_cause_is_critical(h: Lifecycle) -> None:
    await h.feed("charts-check", FAIL, FAIL)
    [incident] = await h.incidents()
    assert incident.severity == Severity.MODERATE  # information × major_outage
    await h.responder.set_cause(incident.id, "security/ddos", h.clock.now(), actor="alice")
    [incident] = await h.incidents()
    assert (incident.severity, incident.cause) == (Severity.CRITICAL, "security/ddos")
    assert incident.severity_reason == "critical: the cause is security/ddos"


async def test_escalation_pages_each_level_then_repeats_the_last(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    assert await h.pages() == [(1, ["sre-primary"])]
    await h.tick_after(4 * 60)
    assert len(await h.pages()) == 1
    await h.tick_after(60)
    await h.tick_after(10 * 60)
    await h.tick_after(10 * 60)
    assert await h.pages() == [
        (1, ["sre-primary"]),
        (2, ["sre-secondary", "sre-lead"]),
        (2, ["sre-secondary", "sre-lead"]),
        (2, ["sre-secondary", "sre-lead"]),
    ]


async def test_ack_stops_escalation_and_unack_restarts_it(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    await h.tick_after(60)
    await h.responder.acknowledge(incident.id, h.clock.now(), actor="alice")
    await h.tick_after(3600)
    assert len(await h.pages()) == 1
    [incident] = await h.incidents()
    assert incident.acknowledged_by == "alice"
    assert (incident.first_acknowledged_at - incident.started_at).total_seconds() == 60
    await h.responder.unacknowledge(incident.id, h.clock.now(), actor="alice")
    assert await h.pages() == [(1, ["sre-primary"]), (1, ["sre-primary"])]


async def test_a_severity_rise_restarts_escalation_at_the_new_class(h: Lifecycle) -> None:
    await h.feed("btc-withdrawals-check", FAIL, FAIL)  # moderate: sre-primary
    [incident] = await h.incidents()
    await h.responder.acknowledge(incident.id, h.clock.now(), actor="alice")
    await h.responder.change_severity(
        incident.id, Severity.CRITICAL, "customer funds at risk", h.clock.now(), actor="alice"
    )
    assert [p[0] for p in await h.pages()] == [1, 1]
    [incident] = await h.incidents()
    assert incident.acknowledged_at is None
    assert incident.first_acknowledged_at is not None  # MTTA keeps the first ack
    [change] = await h.events("severity_changed")
    assert (change.actor, change.data) == ("alice", {"from": "moderate", "to": "critical"})


async def test_a_human_may_lower_severity_with_a_reason(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    await h.responder.change_severity(
        incident.id, Severity.MINOR, "only a test market", h.clock.now(), actor="bob"
    )
    [incident] = await h.incidents()
    assert incident.severity == Severity.MINOR
    assert incident.severity_reason == "minor: only a test market (set by bob)"
    await h.feed("order-entry-check", FAIL)  # results that change nothing do not raise it
    assert (await h.incidents())[0].severity == Severity.MINOR


async def test_a_reminder_when_no_update_was_posted(h: Lifecycle) -> None:
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    await h.responder.acknowledge(incident.id, h.clock.now(), actor="alice")
    await h.tick_after(29 * 60)
    assert await h.events("reminder") == []
    await h.tick_after(60)
    [reminder] = await h.events("reminder")
    assert reminder.data["targets"] == ["sre-primary"]
    await h.responder.post(
        incident.id, IncidentStatus.IDENTIFIED, {"ja": "原因を特定", "en": "Found it"},
        h.clock.now(), actor="alice",
    )  # fmt: skip
    await h.tick_after(29 * 60)
    assert len(await h.events("reminder")) == 1


async def test_a_flapping_check_keeps_one_incident_and_says_so_once(
    database: Database, clock: FakeClock
) -> None:
    checks_flap = {"changes": 3, "window": "15m"}
    config = lifecycle_config(incidents={"resolve_after": {"critical": "0s"}})
    config = config.model_copy(
        update={
            "checks": tuple(
                c.model_copy(update={"flapping": c.flapping.model_validate(checks_flap)})
                for c in config.checks
            )
        }
    )
    h = await lifecycle(database, config, clock)
    for _ in range(4):
        await h.feed(TE, FAIL, FAIL, OK, OK)
    assert len(await h.incidents()) == 1
    assert len(await h.events("alert_flapping")) == 1
    [alert] = [a for a in await h.alert_rows() if a.status == "firing"]
    assert alert.flapping
    await h.tick_after(16 * 60)  # quiet and passing for the window: it settles
    assert [a.status for a in await h.alert_rows()] == ["resolved"] * len(await h.alert_rows())
    assert (await h.incidents())[0].status == IncidentStatus.RESOLVED


@pytest.mark.parametrize("step", ["monitoring", "paged", "acknowledged"])
async def test_a_restart_between_steps_continues_the_lifecycle(
    database: Database, clock: FakeClock, step: str
) -> None:
    config = lifecycle_config()
    h = await lifecycle(database, config, clock)
    await h.feed(TE, FAIL, FAIL)
    [incident] = await h.incidents()
    if step == "monitoring":
        await h.feed(TE, OK, OK)
    if step == "acknowledged":
        await h.responder.acknowledge(incident.id, clock.now(), actor="alice")
    restarted = await lifecycle(database, config, clock)
    await restarted.tick_after(15 * 60)
    [incident] = await restarted.incidents()
    pages = [p[0] for p in await restarted.pages()]
    if step == "monitoring":
        assert incident.status == IncidentStatus.RESOLVED
    elif step == "paged":
        assert pages == [1, 2]
    else:
        assert pages == [1]


async def test_a_component_override_shows_a_trading_halt(h: Lifecycle) -> None:
    halt = {"ja": "取引を一時停止しています", "en": "Trading is halted"}
    await h.responder.override(
        "btc-trading", ComponentStatus.MAJOR_OUTAGE, h.clock.now(), actor="alice",
        reason="deliberate halt during the market crash", message=halt,
    )  # fmt: skip
    assert await h.status("btc-trading") == ComponentStatus.MAJOR_OUTAGE
    assert await h.incidents() == []  # a deliberate halt opens no incident by itself
    await h.feed("btc-trading-check", FAIL, FAIL, OK, OK)
    assert await h.status("btc-trading") == ComponentStatus.MAJOR_OUTAGE
    await h.responder.override("btc-trading", None, h.clock.now(), actor="alice", reason="over")
    assert await h.status("btc-trading") == ComponentStatus.OPERATIONAL
    kinds = [e.kind for e in await h.events() if e.kind.startswith("component_override")]
    assert kinds == ["component_override_set", "component_override_cleared"]


async def test_user_reports_open_a_minor_incident_that_checks_can_raise(h: Lifecycle) -> None:
    reported = NewAlert(
        "reports:login", "login", ComponentStatus.DEGRADED_PERFORMANCE,
        "5 user reports about login within 10m", source="user_reports",
    )  # fmt: skip
    async with h.engine.exclusive() as session:
        await h.engine.book.fire(session, reported, h.clock.now())
    [incident] = await h.incidents()
    assert (incident.severity, incident.name_en) == (Severity.MINOR, "login: reports of problems")
    assert (
        incident.severity_reason == "minor: 5 user reports about login within 10m (user-reported)"
    )
    assert await h.status("login") == ComponentStatus.OPERATIONAL  # reports never set a status
    await h.feed("login-check", FAIL, FAIL)  # monitoring confirms: the same incident, raised
    [incident] = await h.incidents()
    assert incident.severity == Severity.CRITICAL
    await h.feed("login-check", OK, OK)
    assert (await h.incidents())[0].recovered_at is None  # the reports alert still fires
    async with h.engine.exclusive() as session:
        alert = await firing_alert(session=session, fingerprint="reports:login")
        assert alert is not None
        await h.engine.book.clear(session, alert, h.clock.now(), "no more reports")
    assert (await h.incidents())[0].status == IncidentStatus.MONITORING


async def test_a_restart_keeps_the_time_budget_and_reminders(
    database: Database, clock: FakeClock
) -> None:
    config = lifecycle_config()
    h = await lifecycle(database, config, clock)
    await h.feed("btc-withdrawals-check", FAIL, FAIL)  # moderate: budget 2h, update every 1h
    clock.advance(3600)
    restarted = await lifecycle(database, config, clock)
    await restarted.tick_after(1)
    assert len(await restarted.events("reminder")) == 1
    await restarted.tick_after(3600)
    [incident] = await restarted.incidents()
    assert incident.severity == Severity.CRITICAL
