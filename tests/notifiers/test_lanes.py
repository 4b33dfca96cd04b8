"""Lanes: each channel's deliveries sent by at most its width of senders, all of them, once."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from notifiers.channel import Delivery
from notifiers.lanes import DEFAULT_WIDTH, Lanes
from tests.notifiers.email_support import delivery


def on(channel: str, delivery_id: int) -> Delivery:
    """A delivery numbered ``delivery_id`` on ``channel``."""
    base = delivery(delivery_id=delivery_id)
    return Delivery(base.id, channel, base.recipient, base.notice, base.attempt)


class Sender:
    """Counts sends and the most at once per channel; ``gate`` holds a channel's sends."""

    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()
        self.busy: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.gates: dict[str, asyncio.Event] = {}

    async def __call__(self, item: Delivery) -> None:
        self.busy[item.channel] += 1
        self.most[item.channel] = max(self.most[item.channel], self.busy[item.channel])
        gate = self.gates.get(item.channel)
        if gate is not None:
            await gate.wait()
        await asyncio.sleep(0)
        self.busy[item.channel] -= 1
        self.sent[item.id] += 1


async def test_every_delivery_is_sent_once_by_at_most_the_channels_width() -> None:
    sender = Sender()
    lanes = Lanes(sender, {"email": 3, "x": 1})
    for number in range(60):
        lanes.add(on("email" if number % 3 else "x", number))
    await lanes.drain()
    assert sender.sent == Counter(range(60))
    assert sender.most == Counter({"email": 3, "x": 1})


async def test_a_channel_without_a_width_gets_the_default() -> None:
    sender = Sender()
    lanes = Lanes(sender, {})
    for number in range(DEFAULT_WIDTH * 3):
        lanes.add(on("webhook", number))
    await lanes.drain()
    assert sender.most["webhook"] == DEFAULT_WIDTH


async def test_a_held_channel_does_not_hold_up_another() -> None:
    sender = Sender()
    sender.gates["x"] = asyncio.Event()
    lanes = Lanes(sender, {"email": 2, "x": 1})
    lanes.add(on("x", 1))
    for number in range(2, 12):
        lanes.add(on("email", number))
    for _ in range(100):  # bounded: a few loop turns are enough
        if len(sender.sent) == 10:
            break
        await asyncio.sleep(0)
    assert set(sender.sent) == set(range(2, 12))  # every mail went while X waited
    sender.gates["x"].set()
    await lanes.drain()
    assert sender.sent[1] == 1


async def test_a_send_that_raises_does_not_stop_its_lane(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[int] = []

    async def flaky(item: Delivery) -> None:
        if item.id == 3:
            raise RuntimeError("a bug")
        sent.append(item.id)

    lanes = Lanes(flaky, {"email": 1})
    for number in range(6):
        lanes.add(on("email", number))
    with caplog.at_level(logging.ERROR):
        await lanes.drain()
    assert sent == [0, 1, 2, 4, 5]
    assert "sending delivery 3 failed" in caplog.text


async def test_waiting_returns_once_the_queue_is_short_enough() -> None:
    sender = Sender()
    sender.gates["email"] = gate = asyncio.Event()
    lanes = Lanes(sender, {"email": 2})
    for number in range(10):
        lanes.add(on("email", number))
    await asyncio.sleep(0)
    assert lanes.waiting() == 8  # two taken by the two senders, both held
    waiting = asyncio.ensure_future(lanes.wait_until_waiting(4))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    gate.set()
    async with asyncio.timeout(5):
        await waiting
    assert lanes.waiting() <= 4
    await lanes.drain()
    assert sender.sent == Counter(range(10))
