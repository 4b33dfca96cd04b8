"""The per-check alert state machine: ok → pending → firing → recovering → ok."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.domain import AlertState


class Transition(StrEnum):
    """What a result did to the alert: fire it, recover it, or nothing worth an event."""

    FIRED = "fired"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class CheckState:
    """A check's alert state and its counts of consecutive failures and successes."""

    state: AlertState = AlertState.OK
    failures: int = 0
    successes: int = 0


def advance(
    current: CheckState, ok: bool, failures_to_alert: int, successes_to_recover: int
) -> tuple[CheckState, Transition | None]:
    """Return the state after one result, and the transition it caused if any."""
    if ok:
        return _after_success(current, successes_to_recover)
    return _after_failure(current, failures_to_alert)


def _after_failure(
    current: CheckState, failures_to_alert: int
) -> tuple[CheckState, Transition | None]:
    failures = current.failures + 1
    if current.state.is_open:
        return CheckState(AlertState.FIRING, failures, 0), None
    if failures >= failures_to_alert:
        return CheckState(AlertState.FIRING, failures, 0), Transition.FIRED
    return CheckState(AlertState.PENDING, failures, 0), None


def _after_success(
    current: CheckState, successes_to_recover: int
) -> tuple[CheckState, Transition | None]:
    if not current.state.is_open:
        return CheckState(AlertState.OK, 0, 0), None
    successes = current.successes + 1
    if successes >= successes_to_recover:
        return CheckState(AlertState.OK, 0, 0), Transition.RECOVERED
    return CheckState(AlertState.RECOVERING, 0, successes), None
