"""Field types for the HTTP API's input: text the database can store, times it can convert.

PostgreSQL text cannot hold NUL, and an aware time in year 1 or 9999 with an offset has no
UTC equivalent in Python's calendar; both would fail in the database layer as a 500. These
types refuse them as a 422 naming the field instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def storable(text: str) -> str:
    """Return ``text``; raise ValueError if it holds NUL (PostgreSQL text cannot)."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def convertible(moment: datetime) -> datetime:
    """Return ``moment``; raise ValueError if it has no UTC equivalent (stored times are UTC)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date out of range once converted to UTC") from None
    return moment


Storable = AfterValidator(storable)
"""Add to a ``str`` annotation: NUL is refused."""
StorableTime = Annotated[AwareDatetime, AfterValidator(convertible)]
"""An aware time that has a UTC equivalent."""
