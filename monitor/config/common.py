"""Building blocks every config model shares: the strict base, identifiers, failure statuses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["ja", "en"]
Identifier = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        max_length=64,
        description="lower-case letters, digits, '-', '_' and '.'",
    ),
]
FailureStatus = Literal["degraded_performance", "partial_outage", "major_outage"]
LOCAL_REGION = "local"
"""The region of checks exwatch runs itself; any other region is served by agents."""


class Strict(BaseModel):
    """Base for config models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
