"""Sending a dead delivery again: one rule for the admin API and the console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.deliveries import DeliveryRow, get_delivery, retry_delivery


class RetryRefusedError(Exception):
    """A delivery that cannot be retried: 404 when there is none, 409 when it is not dead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def retry_dead(session: AsyncSession, delivery_id: int, at: datetime) -> DeliveryRow:
    """Put a dead delivery back in the queue with fresh attempts, due at ``at``."""
    found = await get_delivery(session=session, delivery_id=delivery_id)
    if found is None:
        raise RetryRefusedError(404, f"no delivery {delivery_id}")
    if not await retry_delivery(session=session, delivery_id=delivery_id, at=at):
        raise RetryRefusedError(409, f"delivery {delivery_id} is {found.status}, not dead")
    again = await get_delivery(session=session, delivery_id=delivery_id)
    assert again is not None
    return again
