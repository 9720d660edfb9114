"""Alembic environment: runs on the connection handed over by `app.storage.db.open_database`."""

from alembic import context

from app.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `open_database` runs migrations
    raise RuntimeError("run migrations through app.storage.db.open_database")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
