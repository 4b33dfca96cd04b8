"""The quorum rule: when a check's alert fires or recovers, given each region's own state.

A region counts only while it reports (not stale) and is not held back by the connectivity guard.
The quorum is capped at the regions that count, so losing agents never makes an alert impossible;
and an alert never recovers while a region that does not count is still failing, so going quiet
or being held back cannot resolve an outage.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.alerting import CheckState, Transition


def quorum_transition(
    states: Mapping[str, CheckState], counting: set[str], required: int, alerting: bool
) -> Transition | None:
    """Return FIRED, RECOVERED or None for a check whose regions are in ``states``."""
    counted = [state for region, state in states.items() if region in counting]
    if not counted:
        return None  # nobody we trust is looking: keep the alert as it is
    needed = min(required, len(counted))
    failing = sum(1 for state in counted if state.state.is_open)
    uncertain = any(
        state.state.is_open for region, state in states.items() if region not in counting
    )
    if failing >= needed and not alerting:
        return Transition.FIRED
    if failing < needed and alerting and not uncertain:
        return Transition.RECOVERED
    return None
