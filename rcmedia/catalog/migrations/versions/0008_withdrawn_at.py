"""When an asset was withdrawn (its package is deleted a grace period later)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rcmedia.catalog.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", rcmedia.catalog.tables.UTCDateTime(), nullable=True))
    # Assets withdrawn before this revision: their last change is the best record of when (a
    # withdrawal bumps updated_at; nothing changes a withdrawn asset's row afterwards but edits).
    op.execute("UPDATE assets SET withdrawn_at = updated_at WHERE status = 'withdrawn'")


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
