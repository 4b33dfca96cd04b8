"""What the Alertmanager receiver takes and answers, as OpenAPI documents it (``receiver``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from monitor.admin.responses import (
    GUARDED,
    UNAVAILABLE,
    ErrorOut,
    request_body,
    responses,
)
from monitor.alertmanager.payload import WebhookPayload


class IgnoredAlert(BaseModel):
    """An alert of the payload that maps to no component, and why."""

    index: int
    fingerprint: str
    alertname: str | None
    reason: str


class Applied(BaseModel):
    """What the payload changed."""

    fired: int
    resolved: int
    unchanged: int
    ignored: int
    ignored_alerts: list[IgnoredAlert]


class PayloadRefused(ErrorOut):
    """A payload that can never be accepted: the first problem, and all of them."""

    problems: list[str]


RECEIVER: dict[str, Any] = {
    "response_model": Applied,
    "openapi_extra": request_body(WebhookPayload),
    "responses": {
        **GUARDED,
        **responses(PayloadRefused, 400, 413, 422),
        **UNAVAILABLE,
    },
}
