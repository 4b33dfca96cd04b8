"""The roles an exwatch process can run (``exwatch run --role``)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What one process does.

    ``all`` is the single-node mode (SQLite or PostgreSQL). ``api`` serves the pages and APIs
    and takes ingest; ``engine`` runs the checks, the alert engine and escalation while it is
    the elected leader, and dispatches the outbox always. Both need PostgreSQL.
    """

    ALL = "all"
    API = "api"
    ENGINE = "engine"

    @property
    def needs_postgres(self) -> bool:
        """Several processes coordinate through PostgreSQL; SQLite has one writer."""
        return self is not Role.ALL
