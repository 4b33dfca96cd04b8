"""The ``heartbeat`` kind: a push check for batch jobs (settlement, cold-wallet sweeps, reconciliation).

The job calls ``POST /api/heartbeat/{token}``; the check fails when no push arrived within
``every`` + ``grace``. The probe only reads when the last push was: whoever receives pushes
gives it a ``last_push`` function (the registry's default knows of none).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from probes.conditions import evaluate_all
from probes.durations import Duration
from probes.result import ProbeResult
from probes.spec import ProbeSpec

_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
LastPush = Callable[[str], float | None]
"""Given a token, the epoch seconds of its newest push, or None."""


class HeartbeatSpec(ProbeSpec):
    """How often a job promises to push, and how much lateness is tolerated."""

    kind: Literal["heartbeat"] = "heartbeat"
    token: SecretStr = Field(min_length=16, description="the secret in the push URL; use ${ENV}")
    every: Duration = Field(gt=0, description="how often the job pushes")
    grace: Duration = Field(default=60.0, description="lateness tolerated before failing")

    placeholders: ClassVar[frozenset[str]] = frozenset({"LAST_PUSH_AGE"})

    @field_validator("token")
    @classmethod
    def _url_safe(cls, token: SecretStr) -> SecretStr:
        # The token is a path segment of the push URL: '/', '%' or spaces could never match.
        if not _URL_SAFE.fullmatch(token.get_secret_value()):
            raise ValueError("use only letters, digits and - _ . ~ (it goes into the push URL)")
        return token


def _never(_token: str) -> float | None:
    return None


class HeartbeatProbe:
    """Judges the age of the newest push; a job never seen is timed from when watching began."""

    def __init__(
        self, last_push: LastPush = _never, clock: Callable[[], float] = time.time
    ) -> None:
        self._last_push = last_push
        self._clock = clock
        self._watching_since = clock()

    async def run(self, spec: HeartbeatSpec) -> ProbeResult:
        """Return ok while the newest push (or the start of watching) is recent enough."""
        now = self._clock()
        last = self._last_push(spec.token.get_secret_value())
        age = now - (last if last is not None else self._watching_since)
        observed = {"LAST_PUSH_AGE": round(age, 3) if last is not None else None}
        outcomes = evaluate_all(spec.conditions, {**observed, "NOW": now})
        problems = []
        if age > spec.every + spec.grace:
            what = f"no push for {age:.0f}s" if last is not None else f"no push yet in {age:.0f}s"
            problems.append(f"{what} (expected every {spec.every:g}s + {spec.grace:g}s grace)")
        return ProbeResult.judged(outcomes, problems, 0.0, observed)
