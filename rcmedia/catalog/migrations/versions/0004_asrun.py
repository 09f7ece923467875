"""the closed as-run log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rcmedia.catalog.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asrun_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("output", sa.String(length=20), nullable=False),
        sa.Column("scheduled_start", rcmedia.catalog.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actual_start", rcmedia.catalog.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("substitution", sa.Text(), nullable=True),
        sa.Column("closed_at", rcmedia.catalog.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "output", "actual_start", name="uq_asrun_entry"),
    )
    op.create_table(
        "asrun_marks",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("output", sa.String(length=20), nullable=False),
        sa.Column("closed_until", rcmedia.catalog.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "output"),
    )


def downgrade() -> None:
    op.drop_table("asrun_marks")
    op.drop_table("asrun_entries")
