"""After start-up the heap is frozen and young objects are collected less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from monitor.heap import YOUNG_THRESHOLD, settle_after_startup


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()  # the rest of the test session collects as before
    gc.set_threshold(*thresholds)


def test_start_up_objects_are_frozen_and_young_ones_collected_less_often(
    restored_collector: None,
) -> None:
    built_at_start_up = [object() for _ in range(10)], {"config": [1, 2]}
    settle_after_startup()
    assert gc.get_freeze_count() >= len(gc.get_referents(built_at_start_up))
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD > 700
    assert not any(obj is built_at_start_up for obj in gc.get_objects())  # out of its sight
