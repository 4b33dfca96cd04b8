"""The engine inbox: agent results an api replica took, until the engine leader applies them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import BigId, UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_inbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_inbox")),
        sa.UniqueConstraint(
            "region",
            "check_id",
            "observed_at",
            name=op.f("uq_engine_inbox_region_check_id_observed_at"),
        ),
    )


def downgrade() -> None:
    op.drop_table("engine_inbox")
