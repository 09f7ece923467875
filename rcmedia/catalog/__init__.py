"""The catalog: SQLAlchemy tables, migrations and the repository. The only owner of SQLAlchemy."""
