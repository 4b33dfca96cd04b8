"""Alembic migrations of the exwatch schema."""
