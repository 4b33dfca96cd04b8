"""The fault table: injection, expiry on an injected clock, clearing, dependents, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.demo.faults import (
    DEFAULT_SECONDS,
    DEPENDENTS,
    Fault,
    FaultMode,
    FaultRequestError,
    FaultTable,
    parse_mode,
    parse_seconds,
)

START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def table(clock: FakeClock) -> FaultTable:
    return FaultTable(clock)


def test_inject_returns_the_fault_and_makes_it_active(table: FaultTable) -> None:
    fault = table.inject("eth-withdrawals", "slow", 120)

    assert fault == Fault("eth-withdrawals", FaultMode.SLOW, START + timedelta(seconds=120))
    assert table.active() == [fault]
    assert table.mode_for("eth-withdrawals") is FaultMode.SLOW
    assert table.mode_for("btc-withdrawals") is None


def test_seconds_default_to_five_minutes(table: FaultTable) -> None:
    assert DEFAULT_SECONDS == 300
    assert table.inject("login", "down").until == START + timedelta(minutes=5)


def test_fault_lasts_until_its_deadline_and_not_after(table: FaultTable, clock: FakeClock) -> None:
    table.inject("login", "down", 60)

    clock.advance(59.999)
    assert table.mode_for("login") is FaultMode.DOWN
    clock.advance(0.001)
    assert table.mode_for("login") is None
    assert table.active() == []


def test_injecting_again_replaces_the_targets_fault(table: FaultTable, clock: FakeClock) -> None:
    table.inject("login", "down", 10)
    table.inject("login", "stale", 100)

    clock.advance(50)
    assert [(f.target, f.mode) for f in table.active()] == [("login", FaultMode.STALE)]


def test_active_lists_faults_by_target(table: FaultTable) -> None:
    table.inject("two-factor", "error", 60)
    table.inject("charts", "down", 60)

    assert [f.target for f in table.active()] == ["charts", "two-factor"]


def test_clear_one_target(table: FaultTable) -> None:
    table.inject("login", "down", 60)
    table.inject("charts", "down", 60)

    assert table.clear("login") == 1
    assert table.clear("login") == 0
    assert [f.target for f in table.active()] == ["charts"]


def test_clear_all_counts_only_live_faults(table: FaultTable, clock: FakeClock) -> None:
    table.inject("login", "down", 10)
    table.inject("charts", "down", 60)
    table.inject("website", "slow", 60)
    clock.advance(30)

    assert table.clear() == 2
    assert table.active() == []
    assert table.clear() == 0


def test_trading_engine_fault_reaches_its_dependents(table: FaultTable) -> None:
    table.inject("trading-engine", "error", 60)

    for dependent in DEPENDENTS["trading-engine"]:
        assert table.mode_for(dependent) is FaultMode.ERROR
    assert {"order-entry", "btc-jpy-trading", "eth-jpy-trading"} <= set(
        DEPENDENTS["trading-engine"]
    )
    assert table.mode_for("market-data") is None
    assert [f.target for f in table.active()] == ["trading-engine"]


def test_the_worst_of_own_and_parent_fault_wins(table: FaultTable) -> None:
    table.inject("order-entry", "slow", 60)
    table.inject("trading-engine", "down", 60)
    assert table.mode_for("order-entry") is FaultMode.DOWN

    table.inject("trading-engine", "stale", 60)
    assert table.mode_for("order-entry") is FaultMode.SLOW


def test_fault_json_has_an_iso_utc_deadline(table: FaultTable) -> None:
    fault = table.inject("login", "down", 60)

    assert fault.to_json() == {
        "target": "login",
        "mode": "down",
        "until": "2025-01-02T03:05:05.000Z",
    }


@pytest.mark.parametrize("mode", ["down", "slow", "error", "stale"])
def test_every_mode_parses(mode: str) -> None:
    assert parse_mode(mode).value == mode


@pytest.mark.parametrize("value", ["fast", "DOWN", "", None, 3, ["down"]])
def test_bad_modes_are_refused_naming_the_field(value: object) -> None:
    with pytest.raises(FaultRequestError, match=r"^mode must be one of down, slow, error, stale"):
        parse_mode(value)


@pytest.mark.parametrize("value", [0.5, 1, 60, 86400])
def test_good_seconds_parse(value: float) -> None:
    assert parse_seconds(value) == value


@pytest.mark.parametrize(
    "value", [0, -1, 86400.5, True, "60", None, float("nan"), float("inf"), [60]]
)
def test_bad_seconds_are_refused_naming_the_field(value: object) -> None:
    with pytest.raises(FaultRequestError, match=r"^seconds must be a positive number"):
        parse_seconds(value)


def test_a_refused_fault_leaves_the_table_alone(table: FaultTable) -> None:
    with pytest.raises(FaultRequestError):
        table.inject("login", "down", 0)
    with pytest.raises(FaultRequestError):
        table.inject("login", "sideways", 60)

    assert table.active() == []
