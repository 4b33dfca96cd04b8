"""Email subscribers of the public page and the components each one chose.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("all_components", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("confirmed_generation", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=True),
        sa.Column("request_times", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("unsubscribed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("address", name=op.f("uq_subscribers_address")),
    )
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscribers_state_language"), ["state", "language"], unique=False
        )

    op.create_table(
        "subscriber_components",
        sa.Column(
            "subscriber_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("component_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_components_subscriber_id_subscribers"),
        ),
        sa.PrimaryKeyConstraint(
            "subscriber_id", "component_id", name=op.f("pk_subscriber_components")
        ),
    )
    with op.batch_alter_table("subscriber_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriber_components_component_id"), ["component_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriber_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriber_components_component_id"))

    op.drop_table("subscriber_components")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscribers_state_language"))

    op.drop_table("subscribers")
