"""The schema: SQLAlchemy Core tables shared by the storage functions and the migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from monitor.storage.types import BigId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

component_groups = Table(
    "component_groups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name_ja", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

components = Table(
    "components",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name_ja", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("group_id", String(64), nullable=True),
    Column("impact_class", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("description_ja", Text, nullable=True),
    Column("description_en", Text, nullable=True),
    Column("status", String(32), nullable=False, server_default="operational"),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # What monitoring sees (the worst firing alert), apart from what the public is shown.
    Column("alert_status", String(32), nullable=False, server_default="operational"),
    # A responder's override (e.g. a deliberate trading halt), shown instead of alert_status.
    Column("override_status", String(32), nullable=True),
    Column("override_message_ja", Text, nullable=True),
    Column("override_message_en", Text, nullable=True),
    Column("override_reason", Text, nullable=True),
)

checks = Table(
    "checks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("component_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
)

check_regions = Table(
    "check_regions",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("state", String(16), nullable=False, server_default="ok"),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("consecutive_successes", Integer, nullable=False, server_default="0"),
    Column("last_run_at", UTCDateTime, nullable=True),
    Column("last_ok", Boolean, nullable=True),
    Column("last_error", Text, nullable=True),
)

probe_results = Table(
    "probe_results",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("check_id", String(64), nullable=False),
    Column("region", String(64), nullable=False, server_default="local"),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("error", Text, nullable=True),
    Column("detail", JSON, nullable=True),
    Index(None, "check_id", "observed_at"),
    Index(None, "observed_at"),  # retention deletes by age
)

probe_rollups = Table(
    "probe_rollups",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("minute", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("latency_sum_ms", Float, nullable=False),
    Column("latency_min_ms", Float, nullable=True),
    Column("latency_max_ms", Float, nullable=True),
    Column("sketch", JSON, nullable=False),
    Index(None, "minute"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("last_push_at", UTCDateTime, nullable=False),
    Column("pushes", BigId, nullable=False, server_default="0"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("fingerprint", String(200), nullable=False),
    Column("check_id", String(64), nullable=True),
    Column("component_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_status", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("incident_id", BigId, ForeignKey("incidents.id"), nullable=True),
    Column("source", String(16), nullable=False, server_default="check"),
    Column("flapping", Boolean, nullable=False, server_default=text("false")),
    Column("muted_reason", Text, nullable=True),
    Column("labels", JSON, nullable=True),
    # Alertmanager's startsAt: with the fingerprint it names one firing episode (resends dedup).
    Column("episode", String(64), nullable=True),
    Index(
        "uq_alerts_fingerprint_episode",
        "fingerprint",
        "episode",
        unique=True,
        sqlite_where=text("episode IS NOT NULL"),
        postgresql_where=text("episode IS NOT NULL"),
    ),
    # At most one firing alert per fingerprint: a restart cannot open a second one.
    Index(
        "uq_alerts_firing_fingerprint",
        "fingerprint",
        unique=True,
        sqlite_where=text("status = 'firing'"),
        postgresql_where=text("status = 'firing'"),
    ),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name_ja", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("severity_reason", Text, nullable=False),
    Column("cause", String(32), nullable=False, server_default="system"),
    Column("origin", String(16), nullable=False, server_default="auto"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("monitoring_at", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    # The report fields of a manually opened incident (seed 004 §2).
    Column("description", Text, nullable=True),
    Column("impact_scope", Text, nullable=True),
    Column("reproduction", Text, nullable=True),
    Column("reporter", Text, nullable=True),
    Column("contact", Text, nullable=True),
    Column("severity_since", UTCDateTime, nullable=True),
    Column("recovered_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", Text, nullable=True),
    Column("first_acknowledged_at", UTCDateTime, nullable=True),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("next_page_at", UTCDateTime, nullable=True),
    Column("last_reminder_at", UTCDateTime, nullable=True),
    Index(None, "status"),
)

incident_components = Table(
    "incident_components",
    metadata,
    Column("incident_id", BigId, ForeignKey("incidents.id"), primary_key=True),
    Column("component_id", String(64), primary_key=True),
    Column("worst_status", String(32), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

incident_updates = Table(
    "incident_updates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", BigId, ForeignKey("incidents.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body_ja", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("affected_components", JSON, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "incident_id"),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(48), nullable=False),
    Column("incident_id", BigId, ForeignKey("incidents.id"), nullable=True),
    Column("component_id", String(64), nullable=True),
    Column("check_id", String(64), nullable=True),
    Column("alert_id", BigId, nullable=True),
    Column("reason", Text, nullable=True),
    Column("data", JSON, nullable=True),
    Column("actor", String(120), nullable=False, server_default="engine"),
    Column("maintenance_id", BigId, nullable=True),
    Index(None, "incident_id"),
    Index(None, "at"),
)

user_reports = Table(
    "user_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("component_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("contact", Text, nullable=True),
    Column("client", String(64), nullable=False),  # a keyed hash of the address, never the address
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "component_id", "created_at"),
    Index(None, "client", "created_at"),
)

maintenance_series = Table(
    "maintenance_series",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("cron", String(120), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("name_ja", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("body_ja", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("components", JSON, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
)

maintenances = Table(
    "maintenances",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("series_id", BigId, ForeignKey("maintenance_series.id"), nullable=True),
    Column("name_ja", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("body_ja", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("status", String(16), nullable=False),  # scheduled, in_progress, completed, cancelled
    Column("scheduled_start", UTCDateTime, nullable=False),
    Column("scheduled_end", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("announced_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "status"),
    Index("uq_maintenances_series_start", "series_id", "scheduled_start", unique=True),
)

maintenance_components = Table(
    "maintenance_components",
    metadata,
    Column("maintenance_id", BigId, ForeignKey("maintenances.id"), primary_key=True),
    Column("component_id", String(64), primary_key=True),
)

# Email subscribers of the public page (#5). ``address`` is normalised (see
# ``monitor.subscriptions.normalisation``) and shown only to admins, never on a public page.
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("address", String(320), nullable=False, unique=True),
    # Random per row and part of every token: a token never outlives its row (ids may be reused).
    Column("nonce", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # pending, active, unsubscribed
    Column("language", String(8), nullable=True),  # the confirmed choice; null until confirmed
    Column("all_components", Boolean, nullable=False, server_default=text("false")),
    # The choice awaiting confirmation: {"language": ..., "components": [...] | "all"}.
    Column("pending", JSON, nullable=True),
    Column("generation", Integer, nullable=False, server_default="0"),  # confirmation requests
    Column("confirmed_generation", Integer, nullable=True),
    Column("requested_at", UTCDateTime, nullable=True),
    Column("request_times", JSON, nullable=True),  # epoch seconds of recent requests (the limit)
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("unsubscribed_at", UTCDateTime, nullable=True),
    Index(None, "state", "language"),
)

# The components an active subscriber chose (none when ``all_components``): #6 fans out by these.
subscriber_components = Table(
    "subscriber_components",
    metadata,
    Column("subscriber_id", BigId, ForeignKey("subscribers.id"), primary_key=True),
    Column("component_id", String(64), primary_key=True),
    Index(None, "component_id"),
)

# The transactional outbox (#6): one row per (event, channel, recipient), written in the
# transaction of the event that causes it; the dispatcher claims rows with a lease.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", BigId, ForeignKey("timeline_events.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    # "subscriber:17", "account:ja", "webhook:ops", "email:oncall@example.com"
    Column("recipient", String(400), nullable=False),
    # Deliveries sharing a thread (an incident on one X account) go out in order, each
    # replying to the one before.
    Column("thread_key", String(64), nullable=True),
    Column("status", String(16), nullable=False),  # pending, sent, dead, dropped
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("external_id", String(200), nullable=True),  # Message-ID, tweet id
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    UniqueConstraint("event_id", "channel", "recipient"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "channel", "recipient", "thread_key"),
)

# API tokens (#7): only the SHA-256 of each token is kept; the token is shown once at creation.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),  # viewer, responder, admin
    Column("token_hash", String(64), nullable=False, unique=True),  # hex SHA-256
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

# Every write through the admin API and the CLI (#7): who, what, when and from where.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(120), nullable=False),  # "admin", "token:NAME", "cli:USER"
    Column("role", String(16), nullable=True),
    Column("method", String(10), nullable=False),
    Column("route", String(300), nullable=False),  # the path template, or "cli tokens create"
    Column("summary", Text, nullable=True),  # the change, secrets redacted, at most ~1 kB
    Column("client", String(100), nullable=True),
    Column("status", Integer, nullable=True),
    Index(None, "at"),
)

# Console sign-ins (#7): the cookie is random; only its SHA-256 is stored, with the SHA-256 of
# the token signed in with, so revoking (or rotating) the token ends its sessions at once.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# --- postmortems (#7) ---------------------------------------------------------------------
# One per incident: Markdown written by responders, rendered sanitised; public once published.
postmortems = Table(
    "postmortems",
    metadata,
    Column("incident_id", BigId, ForeignKey("incidents.id"), primary_key=True),
    Column("body_markdown", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("published_by", String(120), nullable=True),
)
# --- end postmortems ----------------------------------------------------------------------

# --- engine inbox (#9) --------------------------------------------------------------------
# Agent results taken by an api replica, waiting for the engine leader to apply them. A row
# is deleted only when applied, so a result committed late by one replica is never skipped.
engine_inbox = Table(
    "engine_inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("region", String(64), nullable=False),
    Column("check_id", String(64), nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("result", JSON, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("region", "check_id", "observed_at"),
)
# --- end engine inbox ---------------------------------------------------------------------

# --- agents (#9) --------------------------------------------------------------------------
# The agents each region has had, and when each last fetched its checks (a heartbeat): those
# seen within the liveness window share the region's checks. In the database, so every api
# replica gives the agents of a region the same list.
agents = Table(
    "agents",
    metadata,
    Column("region", String(64), primary_key=True),
    Column("agent_id", String(64), primary_key=True),
    Column("last_seen_at", UTCDateTime, nullable=False),
)
# --- end agents ---------------------------------------------------------------------------

# --- engine leader (#9) -------------------------------------------------------------------
# One row (id 1): the elected engine's epoch (the fencing token every engine write checks) and
# its lease, renewed by the database's clock. See monitor.cluster.leadership and .fencing.
engine_leader = Table(
    "engine_leader",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigId, nullable=False),  # BIGINT (INTEGER, also 64-bit, on SQLite)
    Column("holder", String(200), nullable=True),  # "host:pid" of the leader, for people
    Column("backend_pid", Integer, nullable=True),  # pg_backend_pid() of its lock connection
    Column("lease_until", UTCDateTime, nullable=True),
    Column("elected_at", UTCDateTime, nullable=True),
)
# --- end engine leader --------------------------------------------------------------------
