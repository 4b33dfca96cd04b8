"""When to try a failed delivery again: exponential backoff with jitter, up to a cap."""

from __future__ import annotations

import random

from monitor.config.notifications import DeliveryPolicy


def retry_delay(
    attempts: int, policy: DeliveryPolicy, rng: random.Random, *, asked: float | None = None
) -> float:
    """Seconds to wait after ``attempts`` tries; at least what the far side ``asked`` for.

    "Equal jitter": half the exponential step fixed, half random, so retries of a fan-out
    spread out instead of returning together, and none comes back immediately.
    """
    step = min(float(policy.backoff_cap), float(policy.backoff_base) * 2.0 ** max(0, attempts - 1))
    delay = step / 2 + rng.uniform(0, step / 2)
    return max(delay, asked or 0.0)
