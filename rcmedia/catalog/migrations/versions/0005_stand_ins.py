"""segments the slate stood in for (missing from storage)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rcmedia.catalog.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segment_stand_ins",
        sa.Column("storage_key", sa.String(length=1000), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("rendition", sa.String(length=50), nullable=False),
        sa.Column("segment_index", sa.Integer(), nullable=False),
        sa.Column("first_at", rcmedia.catalog.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("storage_key"),
    )
    op.create_index("ix_segment_stand_ins_asset_id", "segment_stand_ins", ["asset_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_segment_stand_ins_asset_id", table_name="segment_stand_ins")
    op.drop_table("segment_stand_ins")
