"""The engine leader: one row with the elected engine's epoch (its fencing token) and lease.

The row itself is inserted lazily by the first engine that campaigns.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import BigId, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_leader",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", BigId, nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("backend_pid", sa.Integer(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("elected_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_leader")),
    )


def downgrade() -> None:
    op.drop_table("engine_leader")
