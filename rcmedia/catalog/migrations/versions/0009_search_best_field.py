"""The catalog search's best-field postings: asset_terms.best and the partial index on them

A one-term search ranks the assets with the term by the best field they have it in. Read from
every posting, that is a GROUP BY over all of them: 15-20 ms on PostgreSQL for a common term of
24,000 postings (bench/catalog.py). Flagged, the best posting of each (term, asset) is one row
of a partial index in rank order: the page is a range of it, the count an index-only count.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("asset_terms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("best", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Backfill: a posting is its asset's best for the term when no better field has the term.
    # One grouping of the whole index, not a lookup per posting (a common term's postings would
    # be scanned once for each of them).
    op.execute(
        "UPDATE asset_terms SET best = true WHERE (term, asset_id, field) IN "
        "(SELECT term, asset_id, min(field) FROM asset_terms GROUP BY term, asset_id)"
    )
    op.create_index(
        "ix_asset_terms_best",
        "asset_terms",
        ["term", "field", "asset_id", "best"],  # best: SQLite's covering index
        unique=False,
        postgresql_where=sa.text("best"),
        sqlite_where=sa.text("best = 1"),
    )


def downgrade() -> None:
    op.drop_index("ix_asset_terms_best", table_name="asset_terms")
    with op.batch_alter_table("asset_terms", schema=None) as batch_op:
        batch_op.drop_column("best")
