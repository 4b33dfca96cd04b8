"""The audit log: one row per write through the admin API or the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what (route and a summary of the change), when and from where."""

    at: datetime
    actor: str
    role: str | None
    method: str
    route: str
    summary: str | None
    client: str | None
    status: int | None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """A stored audit entry and its id."""

    id: int
    entry: AuditEntry


async def record_audit(*, session: AsyncSession, entry: AuditEntry) -> int:
    """Append ``entry`` to the audit log and return its id."""
    result = await session.execute(
        insert(audit_log).values(asdict(entry)).returning(audit_log.c.id)
    )
    return int(result.scalar_one())


async def audit_page(*, session: AsyncSession, after_id: int, limit: int) -> list[AuditRow]:
    """Return up to ``limit`` entries after id ``after_id``, oldest first."""
    rows = await session.execute(
        select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id).limit(limit)
    )
    return [_row(dict(row._mapping)) for row in rows]


async def latest_audit(*, session: AsyncSession, limit: int) -> list[AuditRow]:
    """Return the newest ``limit`` entries, oldest first."""
    rows = await session.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return [_row(dict(row._mapping)) for row in reversed(list(rows))]


def _row(values: dict[str, object]) -> AuditRow:
    row_id = values.pop("id")
    assert isinstance(row_id, int)
    return AuditRow(id=row_id, entry=AuditEntry(**values))  # type: ignore[arg-type]
