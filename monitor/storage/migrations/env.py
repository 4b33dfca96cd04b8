"""Alembic environment: migrations run on the connection exwatch hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from monitor.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `exwatch db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
