"""The admin API's maintenance requests and responses (JSON)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from monitor.admin.fields import Storable, StorableTime
from monitor.maintenance.windows import WindowChanges
from monitor.storage.maintenance import MaintenanceRow, NewMaintenance, NewSeries, SeriesRow
from probes import Duration

Status = Literal["scheduled", "in_progress", "completed", "cancelled"]
Name = Annotated[str, Field(min_length=1, max_length=200), Storable]
Body = Annotated[str, Field(max_length=10_000), Storable]
ComponentIds = Annotated[
    list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=500)
]


class Request(BaseModel):
    """A request body: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class MaintenanceIn(Request):
    """A one-off window: bilingual text, the components it covers, and when."""

    name_ja: Name
    name_en: Name
    body_ja: Body = ""
    body_en: Body = ""
    components: ComponentIds
    scheduled_start: StorableTime
    scheduled_end: StorableTime

    @field_validator("scheduled_end")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("scheduled_start")
        if start is not None and value <= start:
            raise ValueError("must be after scheduled_start")
        return value

    def to_new(self) -> NewMaintenance:
        """Return the storage form."""
        return NewMaintenance(
            name_ja=self.name_ja, name_en=self.name_en,
            body_ja=self.body_ja, body_en=self.body_en,
            scheduled_start=self.scheduled_start, scheduled_end=self.scheduled_end,
            components=_unique(self.components),
        )  # fmt: skip


class SeriesIn(Request):
    """A recurring window: a 5-field cron in a time zone (the site's by default), and a duration."""

    name_ja: Name
    name_en: Name
    body_ja: Body = ""
    body_en: Body = ""
    components: ComponentIds
    cron: str = Field(min_length=1, max_length=120, examples=["0 3 * * 0"])
    time_zone: str | None = Field(default=None, max_length=64, examples=["Asia/Tokyo"])
    duration: Duration = Field(gt=0, examples=["2h"])

    def to_new(self, default_time_zone: str) -> NewSeries:
        """Return the storage form."""
        return NewSeries(
            cron=" ".join(self.cron.split()), time_zone=self.time_zone or default_time_zone,
            duration_s=self.duration, name_ja=self.name_ja, name_en=self.name_en,
            body_ja=self.body_ja, body_en=self.body_en, components=_unique(self.components),
        )  # fmt: skip


class MaintenancePatch(Request):
    """An edit: only the fields given change (times move the window, and are recorded)."""

    name_ja: Name | None = None
    name_en: Name | None = None
    body_ja: Body | None = None
    body_en: Body | None = None
    components: ComponentIds | None = None
    scheduled_start: StorableTime | None = None
    scheduled_end: StorableTime | None = None

    def to_changes(self) -> WindowChanges:
        """Return the change the lifecycle applies."""
        components = None if self.components is None else _unique(self.components)
        return WindowChanges(
            name_ja=self.name_ja, name_en=self.name_en,
            body_ja=self.body_ja, body_en=self.body_en, components=components,
            scheduled_start=self.scheduled_start, scheduled_end=self.scheduled_end,
        )  # fmt: skip


class ExtendIn(Request):
    """The new, later end of a window."""

    scheduled_end: StorableTime


class CancelIn(Request):
    """Why a window is called off (optional)."""

    reason: Annotated[str, Storable] | None = Field(default=None, max_length=2000)


class MaintenanceOut(BaseModel):
    """A maintenance window as the admin API shows it."""

    id: int
    series_id: int | None
    status: Status
    name_ja: str
    name_en: str
    body_ja: str
    body_en: str
    components: list[str]
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    announced_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: MaintenanceRow) -> Self:
        """Return the response for a stored window."""
        return cls.model_validate({**_fields(row), "components": list(row.components)})


class SeriesOut(BaseModel):
    """A recurring maintenance as the admin API shows it."""

    id: int
    cron: str
    time_zone: str
    duration_s: float
    active: bool
    name_ja: str
    name_en: str
    body_ja: str
    body_en: str
    components: list[str]
    created_at: datetime

    @classmethod
    def of(cls, row: SeriesRow) -> Self:
        """Return the response for a stored series."""
        return cls.model_validate({**_fields(row), "components": list(row.components)})


def _fields(row: MaintenanceRow | SeriesRow) -> dict[str, object]:
    return asdict(row)


def _unique(ids: list[str]) -> tuple[str, ...]:
    """Drop repeated ids, keeping the first of each."""
    return tuple(dict.fromkeys(ids))
