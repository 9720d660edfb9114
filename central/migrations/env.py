"""Alembic environment: runs on the connection handed over by `central.store.migrate`."""

from alembic import context

from central.models import CentralBase

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `central.store.migrate` runs migrations
    raise RuntimeError("run central's migrations through central.store.migrate")

context.configure(
    connection=connection,
    target_metadata=CentralBase.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    transactional_ddl=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
