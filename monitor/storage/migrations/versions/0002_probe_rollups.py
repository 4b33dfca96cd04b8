"""Per-minute probe rollups (count, failures, latency sum/min/max and a latency sketch).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probe_rollups",
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("latency_min_ms", sa.Float(), nullable=True),
        sa.Column("latency_max_ms", sa.Float(), nullable=True),
        sa.Column("sketch", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("check_id", "region", "minute", name=op.f("pk_probe_rollups")),
    )
    with op.batch_alter_table("probe_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_probe_rollups_minute"), ["minute"], unique=False)
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_probe_results_observed_at"), ["observed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_probe_results_observed_at"))
    with op.batch_alter_table("probe_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_probe_rollups_minute"))
    op.drop_table("probe_rollups")
