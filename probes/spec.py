"""ProbeSpec: the fields every probe kind's spec shares (kind, timeout, conditions)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    field_validator,
)

from probes.conditions import Condition, parse_condition
from probes.durations import Duration
from probes.text_fields import from_text, string_schema

ConditionField = Annotated[
    Condition,
    PlainValidator(from_text(Condition, parse_condition, "a condition", "[STATUS] == 200")),
    PlainSerializer(lambda condition: condition.text, return_type=str),
    string_schema("[STATUS] == 200", "[RESPONSE_TIME] < 500"),
]


class ProbeSpec(BaseModel):
    """What a probe needs to run once: its kind's fields, a timeout and conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    placeholders: ClassVar[frozenset[str]] = frozenset()
    """The placeholders this kind's conditions may use (besides NOW)."""

    kind: str
    timeout: Duration = Field(default=10.0, gt=0, description="give up after this long")
    conditions: tuple[ConditionField, ...] = Field(
        default=(), description="all must hold for the check to pass"
    )

    @field_validator("conditions")
    @classmethod
    def _known_placeholders(cls, conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
        known = cls.placeholders
        for condition in conditions:
            unknown = sorted(set(condition.placeholder_names()) - known - {"NOW"})
            if known and unknown:
                raise ValueError(
                    f"{condition.text!r}: unknown placeholder [{unknown[0]}] "
                    f"(this kind has {', '.join(f'[{p}]' for p in sorted(known))})"
                )
        return conditions
