"""A channel's pace: no more sends at once than its concurrency, no faster than its rate."""

from __future__ import annotations

import asyncio

from notifiers.pacing import Pace


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_no_more_slots_are_held_at_once_than_the_concurrency() -> None:
    pace = Pace(10_000, 3)
    busy = most = 0

    async def send() -> None:
        nonlocal busy, most
        async with pace.slot():
            busy += 1
            most = max(most, busy)
            await asyncio.sleep(0.001)
            busy -= 1

    await asyncio.gather(*(send() for _ in range(20)))
    assert most == 3 and busy == 0


async def test_a_second_of_sends_goes_at_once_and_the_next_waits_for_its_token() -> None:
    clock = Clock()
    pace = Pace(4, 100, monotonic=clock)
    entered: list[int] = []

    async def send(number: int) -> None:
        async with pace.slot():
            entered.append(number)

    tasks = [asyncio.ensure_future(send(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    assert entered == [0, 1, 2, 3]  # the burst: one second's worth
    clock.now += 0.25  # one more token's worth of time
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    assert entered == [0, 1, 2, 3, 4]


async def test_a_slot_is_given_back_when_the_send_fails() -> None:
    pace = Pace(10_000, 1)
    for _ in range(3):
        try:
            async with pace.slot():
                raise ConnectionError("refused")
        except ConnectionError:
            pass
    async with asyncio.timeout(5), pace.slot():
        pass  # not stuck: every failed send released its slot
