"""Alert state moved to check_regions (0004): drop the old per-check state columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MOVED = (
    "state",
    "consecutive_failures",
    "consecutive_successes",
    "last_run_at",
    "last_ok",
    "last_error",
)


def upgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        for column in _MOVED:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), server_default="ok", nullable=False)
        )
        batch_op.add_column(
            sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("consecutive_successes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("last_run_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_ok", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    # The 'local' region's state is what a check had before regions existed.
    op.execute(
        "UPDATE checks SET state = r.state, consecutive_failures = r.consecutive_failures,"
        " consecutive_successes = r.consecutive_successes, last_run_at = r.last_run_at,"
        " last_ok = r.last_ok, last_error = r.last_error"
        " FROM check_regions r WHERE r.check_id = checks.id AND r.region = 'local'"
    )
