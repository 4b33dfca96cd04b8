"""Fixtures of the API robustness tests, and a shim for schemathesis under pytest 9.2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from monitor.storage.database import Database
from tests.api.support import Api, Seeded, running, seed
from tests.support import FakeClock


@dataclass(frozen=True)
class SeededApi:
    """The running app over a seeded database, and the ids the seed made."""

    api: Api
    ids: Seeded


@pytest.fixture
async def seeded(database: Database, clock: FakeClock) -> AsyncIterator[SeededApi]:
    """The app on SQLite and PostgreSQL with two incidents, windows in each state, and more."""
    async with running(database, clock) as api:
        yield SeededApi(api, await seed(api))


def _nodeid(item: pytest.Item) -> str:
    return item.nodeid


def _keep_nodeid(item: pytest.Item, value: str) -> None:
    """Ignore the rename: the subtest's label already names the operation."""


# schemathesis 4.32's lazy schemas rename the running item through ``item._nodeid`` for their
# report, an attribute pytest 9.2 no longer has; without it every lazy-schema test errors out.
# (Older pytest sets ``_nodeid`` on each item: a property there would break it.)
if pytest.version_tuple >= (9, 2) and not hasattr(pytest.Item, "_nodeid"):
    pytest.Item._nodeid = property(_nodeid, _keep_nodeid)  # type: ignore[attr-defined]
