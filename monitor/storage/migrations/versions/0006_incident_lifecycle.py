"""Incident lifecycle (ack, escalation, recovery), external alerts, user reports, maintenance, overrides.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenance_series",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("name_ja", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_series")),
    )
    op.create_table(
        "user_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("component_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_reports")),
    )
    with op.batch_alter_table("user_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_reports_client_created_at"), ["client", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_user_reports_component_id_created_at"),
            ["component_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "maintenances",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name_ja", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_start", UTCDateTime(), nullable=False),
        sa.Column("scheduled_end", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("announced_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["maintenance_series.id"],
            name=op.f("fk_maintenances_series_id_maintenance_series"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenances")),
    )
    with op.batch_alter_table("maintenances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenances_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_maintenances_series_start", ["series_id", "scheduled_start"], unique=True
        )

    op.create_table(
        "maintenance_components",
        sa.Column(
            "maintenance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("component_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["maintenance_id"],
            ["maintenances.id"],
            name=op.f("fk_maintenance_components_maintenance_id_maintenances"),
        ),
        sa.PrimaryKeyConstraint(
            "maintenance_id", "component_id", name=op.f("pk_maintenance_components")
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="check", nullable=False)
        )
        batch_op.add_column(
            sa.Column("flapping", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("muted_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("labels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("episode", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "uq_alerts_fingerprint_episode",
            ["fingerprint", "episode"],
            unique=True,
            sqlite_where=sa.text("episode IS NOT NULL"),
            postgresql_where=sa.text("episode IS NOT NULL"),
        )

    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alert_status", sa.String(length=32), server_default="operational", nullable=False
            )
        )
        batch_op.add_column(sa.Column("override_status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("override_message_ja", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("override_message_en", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.Text(), nullable=True))

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("impact_scope", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reproduction", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reporter", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contact", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("severity_since", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("recovered_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("first_acknowledged_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_page_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_reminder_at", UTCDateTime(), nullable=True))
    # What monitoring saw so far is what the public saw; an incident's class dates from its start.
    op.execute("UPDATE components SET alert_status = status WHERE status <> 'under_maintenance'")
    op.execute("UPDATE incidents SET severity_since = started_at")

    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("actor", sa.String(length=120), server_default="engine", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "maintenance_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.drop_column("maintenance_id")
        batch_op.drop_column("actor")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("last_reminder_at")
        batch_op.drop_column("next_page_at")
        batch_op.drop_column("escalation_level")
        batch_op.drop_column("first_acknowledged_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("recovered_at")
        batch_op.drop_column("severity_since")
        batch_op.drop_column("contact")
        batch_op.drop_column("reporter")
        batch_op.drop_column("reproduction")
        batch_op.drop_column("impact_scope")
        batch_op.drop_column("description")

    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_column("override_reason")
        batch_op.drop_column("override_message_en")
        batch_op.drop_column("override_message_ja")
        batch_op.drop_column("override_status")
        batch_op.drop_column("alert_status")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alerts_fingerprint_episode",
            sqlite_where=sa.text("episode IS NOT NULL"),
            postgresql_where=sa.text("episode IS NOT NULL"),
        )
        batch_op.drop_column("episode")
        batch_op.drop_column("labels")
        batch_op.drop_column("muted_reason")
        batch_op.drop_column("flapping")
        batch_op.drop_column("source")

    op.drop_table("maintenance_components")
    with op.batch_alter_table("maintenances", schema=None) as batch_op:
        batch_op.drop_index("uq_maintenances_series_start")
        batch_op.drop_index(batch_op.f("ix_maintenances_status"))

    op.drop_table("maintenances")
    with op.batch_alter_table("user_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_reports_component_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_user_reports_client_created_at"))

    op.drop_table("user_reports")
    op.drop_table("maintenance_series")
