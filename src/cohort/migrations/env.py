"""Alembic environment: run against the connection the Store hands over."""

from alembic import context

from cohort.store.tables import Base

connection = context.config.attributes.get("connection")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table.
)
with context.begin_transaction():
    context.run_migrations()
