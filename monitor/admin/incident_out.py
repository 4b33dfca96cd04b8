"""The admin API's incident answers, as OpenAPI documents them (``monitor.storage.incident_reads``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IncidentOut(BaseModel):
    """An incident as the list shows it: state, severity and why, times, and the report fields."""

    id: int
    name_ja: str
    name_en: str
    status: str
    severity: str
    severity_reason: str
    cause: str
    origin: str = Field(description="auto (from alerts) or manual")
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    recovered_at: datetime | None
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    first_acknowledged_at: datetime | None
    escalation_level: int
    next_page_at: datetime | None
    description: str | None
    impact_scope: str | None
    reproduction: str | None
    reporter: str | None
    contact: str | None
    detected_at: datetime = Field(description="its first alert's start, else when it was opened")
    mtta_seconds: float | None
    mttr_seconds: float | None


class IncidentList(BaseModel):
    """Incidents, newest first."""

    incidents: list[IncidentOut]


class AffectedOut(BaseModel):
    """A component of an incident and the worst status it had in it."""

    id: str
    worst_status: str
    added_at: datetime


class UpdateOut(BaseModel):
    """A public update, in both languages."""

    id: int
    status: str
    body_ja: str
    body_en: str
    affected_components: list[dict[str, Any]] | None
    created_at: datetime


class IncidentAlertOut(BaseModel):
    """An alert grouped into the incident."""

    id: int
    fingerprint: str
    source: str
    check_id: str | None
    component: str
    status: str
    summary: str
    started_at: datetime
    resolved_at: datetime | None
    flapping: bool


class IncidentDetail(IncidentOut):
    """One incident with its components, public updates (newest first) and alerts."""

    components: list[AffectedOut]
    updates: list[UpdateOut]
    alerts: list[IncidentAlertOut]
