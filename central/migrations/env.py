"""Alembic environment of central's database: runs on the connection `central.schema.migrate`
hands over (never from the alembic command line)."""

from alembic import context

from central.models import CentralBase

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only central.schema.migrate runs migrations
    raise RuntimeError("run central's migrations through central.schema.migrate")

context.configure(
    connection=connection,
    target_metadata=CentralBase.metadata,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
