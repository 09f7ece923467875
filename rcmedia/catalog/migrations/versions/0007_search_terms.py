"""The catalog search's terms (asset_terms), backfilled from every asset

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rcmedia.catalog.search import FIELDS, term_rows

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this revision knows them (not tables.py's, which later revisions may change).
_assets = sa.table("assets", sa.column("id", sa.Integer), *(sa.column(name, sa.Text) for name in FIELDS))
_terms = sa.table(
    "asset_terms",
    sa.column("term", sa.String),
    sa.column("asset_id", sa.Integer),
    sa.column("field", sa.SmallInteger),
)


def upgrade() -> None:
    op.create_table(
        "asset_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("field", sa.SmallInteger(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("term", "field", "asset_id"),
    )
    op.create_index("ix_asset_terms_asset_id", "asset_terms", ["asset_id"], unique=False)
    # Backfill: every asset so far, with the tokenizer of this revision (a later change of the
    # tokenizer comes with a revision that re-indexes).
    connection = op.get_bind()
    found = connection.execute(
        sa.select(_assets.c.id, *(_assets.c[name] for name in FIELDS)).order_by(_assets.c.id)
    ).all()
    pending: list[dict[str, object]] = []
    for row in found:
        pending.extend(
            {name: posting[name] for name in ("term", "asset_id", "field")}  # 0009 adds "best"
            for posting in term_rows(row[0], dict(zip(FIELDS, row[1:], strict=True)))
        )
        if len(pending) >= 5000:
            connection.execute(sa.insert(_terms), pending)
            pending = []
    if pending:
        connection.execute(sa.insert(_terms), pending)


def downgrade() -> None:
    op.drop_index("ix_asset_terms_asset_id", table_name="asset_terms")
    op.drop_table("asset_terms")
