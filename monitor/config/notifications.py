"""The ``notifications`` section: channels (email, X, webhooks, Grafana), who is paged, retries.

Secrets never sit in the YAML: each setting that needs one names the environment variable
holding it (``password_env``, ``secret_env``, ``credentials_env_prefix``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, HttpUrl, field_validator, model_validator

from monitor.config.common import Identifier, Strict
from monitor.domain import Severity
from probes import Duration

NoticeKind = Literal[
    "incident_opened",
    "update_posted",
    "severity_changed",
    "incident_resolved",
    "acknowledged",
    "maintenance_announced",
    "maintenance_started",
    "maintenance_completed",
    "page",
    "reminder",
]
PUBLIC_NOTICES: tuple[NoticeKind, ...] = (
    "incident_opened",
    "update_posted",
    "incident_resolved",
    "maintenance_announced",
    "maintenance_started",
    "maintenance_completed",
)
"""What subscribers and X hear about: the public updates and maintenance, nothing internal."""

GrafanaNoticeKind = Literal["incident_opened", "severity_changed", "incident_resolved"]
GRAFANA_NOTICES: tuple[GrafanaNoticeKind, ...] = get_args(GrafanaNoticeKind)
"""What Grafana annotations follow: an incident's start, its severity, and its end."""

ALL_SEVERITIES: tuple[Severity, ...] = (Severity.MINOR, Severity.MODERATE, Severity.CRITICAL)


def _env_name() -> Any:
    """An optional setting naming an environment variable (where a secret is)."""
    return Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=120)


class Filter(Strict):
    """Which notices a channel or recipient gets: by kind, severity and component."""

    events: tuple[NoticeKind, ...] = PUBLIC_NOTICES
    severities: tuple[Severity, ...] = ALL_SEVERITIES
    components: tuple[Identifier, ...] = Field(
        default=(), description="only notices about these components (empty: all)"
    )


class SmtpSettings(Strict):
    """How to reach the SMTP server; the password comes from ``password_env``."""

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username_env: str | None = _env_name()
    password_env: str | None = _env_name()
    timeout: Duration = Field(default=15.0)
    # 8, not 4: with 4 the relay idled while the dispatcher prepared the next mails; a fan-out
    # sends ~20% more a second on 8 (bench/README.md, "Email fan-out").
    pool_size: int = Field(default=8, ge=1, le=64, description="connections reused across mails")


class Limits(Strict):
    """Per-channel pace: sends per second and how many at once."""

    rate_per_second: float = Field(default=50.0, gt=0, le=100_000)
    concurrency: int = Field(default=8, ge=1, le=512)


class EmailChannel(Strict):
    """Mail to subscribers (their language) and pages to responders' addresses."""

    sender: str = Field(
        min_length=3, description="the From header, e.g. 'Exchange Status <status@example.com>'"
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    subscribers: Filter = Field(default_factory=Filter)
    templates_dir: str | None = Field(
        default=None, description="a directory whose templates override the shipped ones"
    )
    limits: Limits = Field(default_factory=lambda: Limits(rate_per_second=500, concurrency=16))


class XAccount(Strict):
    """One X account; its OAuth 1.0a user-context keys come from ``<prefix>_CONSUMER_KEY`` etc."""

    name: Identifier
    language: Literal["ja", "en", "both"]
    credentials_env_prefix: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=100)


class XChannel(Strict):
    """Posts to X: the first post of an incident, then every update as a reply in its thread."""

    accounts: tuple[XAccount, ...] = Field(min_length=1)
    api_base_url: HttpUrl = Field(
        default=HttpUrl("https://api.twitter.com"),
        description="rewrites the host of tweepy's requests (gateways, a local fake in tests)",
    )
    filter: Filter = Field(
        default_factory=lambda: Filter(severities=(Severity.MODERATE, Severity.CRITICAL))
    )
    limits: Limits = Field(default_factory=lambda: Limits(rate_per_second=1, concurrency=1))


class Webhook(Strict):
    """A JSON (or Slack-format) POST per notice, signed with HMAC-SHA256 when a secret is set."""

    name: Identifier
    url: HttpUrl
    format: Literal["exwatch", "slack"] = "exwatch"
    secret_env: str | None = _env_name()
    filter: Filter = Field(default_factory=Filter)
    limits: Limits = Field(default_factory=lambda: Limits(rate_per_second=20, concurrency=4))


class GrafanaFilter(Filter):
    """A filter for annotations: only the incident notices an annotation can follow."""

    events: tuple[GrafanaNoticeKind, ...] = GRAFANA_NOTICES


def _grafana_tag(value: str) -> str:
    if value != value.strip() or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        raise ValueError("a tag has no control characters and no blanks at either end")
    return value


GrafanaTag = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_grafana_tag)]


class GrafanaChannel(Strict):
    """Annotations on Grafana: a point when an incident opens, a region once it is resolved."""

    url: HttpUrl = Field(description="Grafana's base URL, e.g. http://grafana:3000")
    api_token_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=120)
    dashboard_uid: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+$",
        max_length=40,
        description="annotate this dashboard only (empty: organisation-wide, shown by tag)",
    )
    tags: tuple[GrafanaTag, ...] = Field(
        default=("exwatch",), description="added to every annotation, before severity:/component:"
    )
    filter: GrafanaFilter = Field(default_factory=GrafanaFilter)


class Responder(Strict):
    """How one escalation target is reached when paged: an address, a webhook, or both."""

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    webhook: Identifier | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Responder:
        if self.email is None and self.webhook is None:
            raise ValueError("give an email, a webhook, or both")
        return self


class DeliveryPolicy(Strict):
    """Retries: exponential backoff with jitter up to a cap, then the dead-letter list."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base: Duration = Field(default=5.0)
    backoff_cap: Duration = Field(default=900.0)
    lease: Duration = Field(default=60.0, description="a claimed delivery is retried after this")
    batch: int = Field(default=500, ge=1, le=10_000, description="deliveries claimed at once")

    @field_validator("lease")
    @classmethod
    def _lease_long_enough(cls, value: float) -> float:
        if value < 5:
            raise ValueError("must be at least 5s (a send must finish inside its lease)")
        return value


class Notifications(Strict):
    """Every channel is optional; with none configured, nothing leaves exwatch."""

    email: EmailChannel | None = None
    x: XChannel | None = None
    webhooks: tuple[Webhook, ...] = ()
    grafana: GrafanaChannel | None = None
    responders: dict[Identifier, Responder] = Field(default_factory=dict)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
