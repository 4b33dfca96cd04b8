"""The Alertmanager webhook payload (version 4) as pydantic models, and its parser.

Alertmanager adds fields over the years (``truncatedAlerts``, ``notification_reason``,
``routeLabels``): unknown fields are accepted and ignored. A payload the models refuse can
never be accepted, so the parser raises ``PayloadError`` naming the field path, which the
receiver turns into a 4xx that Alertmanager does not retry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

SUPPORTED_VERSION = "4"
# The alerts table holds fingerprints of 200 characters, "alertmanager:" included.
MAX_FINGERPRINT = 180
MAX_PROBLEMS = 20


class PayloadError(ValueError):
    """A payload that can never be accepted; ``problems`` are ``path: message`` lines."""

    def __init__(self, status: int, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.status = status
        self.problems = problems


def _to_utc(moment: datetime) -> datetime:
    # Year 1 or 9999 with an offset has no UTC equivalent in Python's calendar.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date out of range once converted to UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class _Lenient(BaseModel):
    # Unknown fields are ignored: newer Alertmanagers add some, and they must not be refused.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class WebhookAlert(_Lenient):
    """One alert of a notification: its status, labels and the time its episode started."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: UtcDatetime = Field(alias="startsAt")
    ends_at: UtcDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    # Sent since Alertmanager 0.19; older senders get the same value computed from the labels.
    fingerprint: str | None = Field(
        default=None, min_length=1, max_length=MAX_FINGERPRINT, pattern=r"^[A-Za-z0-9_.:-]+$"
    )

    @property
    def alert_fingerprint(self) -> str:
        """Return Alertmanager's fingerprint of this alert's label set."""
        return self.fingerprint or label_fingerprint(self.labels)

    @property
    def episode(self) -> str:
        """Return startsAt in one normal form: with the fingerprint it names one firing."""
        return self.starts_at.isoformat(timespec="microseconds")


class WebhookPayload(_Lenient):
    """A notification: a group of alerts Alertmanager posts to a webhook receiver."""

    version: str
    alerts: list[WebhookAlert] = Field(min_length=1)
    status: Literal["firing", "resolved"] | None = None
    receiver: str = ""
    group_key: str = Field(default="", alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    external_url: str = Field(default="", alias="externalURL")

    @field_validator("version")
    @classmethod
    def _version_four(cls, version: str) -> str:
        if version != SUPPORTED_VERSION:
            raise ValueError(
                f"exwatch reads version {SUPPORTED_VERSION} of the webhook payload, got {version!r}"
            )
        return version


def parse_payload(body: bytes) -> WebhookPayload:
    """Parse a webhook body; raise PayloadError naming every field that is wrong."""
    try:
        return WebhookPayload.model_validate_json(body)
    except ValidationError as error:
        details = error.errors(include_input=False, include_url=False)
        if any(detail["type"] == "json_invalid" for detail in details):
            raise PayloadError(400, [f"<body>: {details[0]['msg']}"]) from None
        raise PayloadError(422, [_problem(detail) for detail in details[:MAX_PROBLEMS]]) from None


def _problem(detail: Any) -> str:
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{field_path(detail['loc'])}: {message}"


def field_path(loc: tuple[int | str, ...]) -> str:
    """Return a pydantic error location as ``alerts[0].startsAt`` (``<body>`` for the root)."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<body>"


_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF  # a byte no UTF-8 text contains


def label_fingerprint(labels: dict[str, str]) -> str:
    """Return Alertmanager's fingerprint of a label set (FNV-1a, as prometheus/common does)."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in (*part.encode("utf-8", "surrogatepass"), _SEPARATOR):
                value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"
