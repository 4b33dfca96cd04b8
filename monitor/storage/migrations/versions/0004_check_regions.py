"""Per-region check state: each region runs its own alert state machine; a quorum fires the alert.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_regions",
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="ok", nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consecutive_successes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("check_id", "region", name=op.f("pk_check_regions")),
    )
    # Every check so far ran on exwatch itself: its state becomes the 'local' region's.
    op.execute(
        "INSERT INTO check_regions (check_id, region, state, consecutive_failures,"
        " consecutive_successes, last_run_at, last_ok, last_error)"
        " SELECT id, 'local', state, consecutive_failures, consecutive_successes,"
        " last_run_at, last_ok, last_error FROM checks"
    )


def downgrade() -> None:
    op.drop_table("check_regions")
