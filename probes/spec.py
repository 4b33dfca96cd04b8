"""ProbeSpec: the fields every probe kind's spec shares (kind, timeout, conditions)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema

from probes.conditions import Condition, parse_condition
from probes.durations import Duration


def _to_condition(value: Any) -> Condition:
    if isinstance(value, Condition):
        return value
    if not isinstance(value, str):
        raise ValueError("a condition is a string such as '[STATUS] == 200'")
    return parse_condition(value)


ConditionField = Annotated[
    Condition,
    PlainValidator(_to_condition),
    PlainSerializer(lambda condition: condition.text, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]}),
]


class ProbeSpec(BaseModel):
    """What a probe needs to run once: its kind's fields, a timeout and conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    timeout: Duration = Field(default=10.0, description="give up after this long")
    conditions: tuple[ConditionField, ...] = Field(
        default=(), description="all must hold for the check to pass"
    )
