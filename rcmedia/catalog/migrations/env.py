"""Alembic environment: the connection is handed in by rcmedia.catalog.db.upgrade."""

from alembic import context

from rcmedia.catalog.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
