"""Benchmark: an incident mailed to 100,000 subscribers through the outbox, against raw aiosmtplib.

In one run, on loopback, against one local SMTP sink in a separate process (aiosmtpd accepting
and discarding each message, or Debian postfix's ``smtp-sink`` with ``--sink smtp-sink``):

A. The whole outbox path: a fresh SQLite database (migrated), N active subscribers (half ja,
   half en), the engine with a responder and the outbox planner. Opening one incident plans one
   delivery per subscriber in the incident's own transaction (timed: "planning"); then the
   dispatcher (claim with a lease → notice and subscriber → unsubscribe links → the mail's
   bytes, rendered with Jinja2 and composed for the first mails of each language, then joined
   from their verified stencil → the channel's aiosmtplib pool → outcomes written) runs until
   every delivery is sent. Deliveries/s is counted from the commit to the last outcome written.
B. A raw aiosmtplib loop sending as many messages, pre-rendered once per language with the email
   channel's own renderer and composer from the same notice, on as many connections (the pool's
   size) with as many senders at once (the channel's concurrency).

The process's collector is set as `exwatch run` sets it once started (monitor.heap), for A and B
alike. The email limits are the shipped ones (the pool's size and the channel's concurrency,
read from the config model) except the rate, lifted to 100,000/s: this measures capacity, not
the configured pace. Prints both rates, the CPU of the sender and of the sink, and the ratio
A/B (goal ≥ 0.8×). Bounded in count (``--subscribers``) and time
(every phase has a deadline). Run: .venv/bin/python bench/email_fanout.py [--subscribers 100000]
[--sink aiosmtpd|smtp-sink] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from aiosmtplib import SMTP
from prometheus_client import CollectorRegistry
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import free_port, process_cpu_seconds, wait_for_port
from monitor.ack_links import AckLinks
from monitor.clock import SystemClock
from monitor.config import Config, config_model
from monitor.config.notifications import EmailChannel, SmtpSettings
from monitor.domain import ComponentStatus
from monitor.engine import AlertEngine
from monitor.heap import settle_after_startup
from monitor.notices import Links, Recipient
from monitor.outbox.notice_reader import NoticeReader
from monitor.outbox.planner import OutboxPlanner
from monitor.responder import ManualIncident, Responder
from monitor.result_writer import ResultWriter
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.subscribers import subscribers_by_ids
from monitor.storage.tables import deliveries, subscribers
from monitor.subscriptions.service import SubscriptionService
from notifiers.channel import Delivery
from notifiers.email import build_email_channel
from notifiers.email.compose import compose
from notifiers.email.headers import sender_address
from notifiers.email.render import Renderer
from notifiers.service import NotificationService

SUBSCRIBERS = 100_000
SENDER = "Bench Exchange Status <status@bench.example>"
SITE_URL = "https://status.bench.example"
KEY = b"b" * 48
INSERT_CHUNK = 10_000
SINK_START_SECONDS = 10.0
RUN_SECONDS = 900.0  # each run's deadline: far above a 100k run's length on a 2-core machine
CONCURRENCY = EmailChannel.model_fields["limits"].get_default(call_default_factory=True).concurrency
POOL_SIZE = SmtpSettings.model_fields["pool_size"].default  # the shipped limits, as a user has them


def config_for(port: int) -> Config:
    """One component, email only, to the sink; the rate limit lifted (we measure capacity)."""
    document = {
        "site": {"name": "Bench Exchange", "url": SITE_URL},
        "components": [
            {"id": "spot", "names": {"ja": "現物取引", "en": "Spot trading"},
             "impact_class": "trading"},
        ],
        "notifications": {
            "email": {
                "sender": SENDER,
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none",
                         "pool_size": POOL_SIZE, "timeout": "30s"},
                "limits": {"rate_per_second": 100_000, "concurrency": CONCURRENCY},
            },
        },
    }  # fmt: skip
    return config_model().model_validate(document)  # type: ignore[no-any-return]


# --- the sink (a separate process) --------------------------------------------------------


def serve_aiosmtpd(port: int) -> None:
    """Accept and discard every message on 127.0.0.1:``port``; print the count on SIGTERM."""
    from aiosmtpd.smtp import SMTP as ServerSMTP  # noqa: N811

    class Discard:
        def __init__(self) -> None:
            self.messages = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages += 1
            return "250 OK"

    handler = Discard()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        server = await loop.create_server(
            lambda: ServerSMTP(handler, hostname="sink", loop=loop), "127.0.0.1", port
        )
        await stop.wait()
        server.close()
        print(json.dumps({"messages": handler.messages}), flush=True)

    uvloop.run(main())


@contextmanager
def sink(kind: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """Run the chosen SMTP sink in its own process; yield its port and process."""
    port = free_port()
    if kind == "smtp-sink":
        binary = "/usr/sbin/smtp-sink"
        if not Path(binary).exists():
            raise SystemExit("smtp-sink is not installed (apt-get install postfix)")
        # Accept and discard; backlog 256; as root it must be told whom to run as.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        command = [binary, *user, f"127.0.0.1:{port}", "256"]
    else:
        command = [sys.executable, __file__, "--serve-sink", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, SINK_START_SECONDS)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def sink_count(process: subprocess.Popen[str], kind: str) -> int | None:
    """The number of messages the (stopped) aiosmtpd sink accepted; None for smtp-sink."""
    if kind != "aiosmtpd" or process.stdout is None:
        return None
    for line in process.stdout.read().splitlines():
        if line.startswith("{"):
            return int(json.loads(line)["messages"])
    return None


# --- run A: the outbox ---------------------------------------------------------------------


async def add_subscribers(database: Database, count: int) -> None:
    """Insert ``count`` active, confirmed subscribers of every component (half ja, half en)."""
    now = datetime.now(UTC)
    for start in range(0, count, INSERT_CHUNK):
        rows = [
            {"address": f"user{i}@example.com", "nonce": f"{i:032x}", "state": "active",
             "language": "ja" if i % 2 else "en", "all_components": True,
             "created_at": now, "updated_at": now, "confirmed_at": now}
            for i in range(start, min(count, start + INSERT_CHUNK))
        ]  # fmt: skip
        async with database.transaction() as session:
            await session.execute(insert(subscribers), rows)


async def count_deliveries(database: Database, status: str | None = None) -> int:
    """Deliveries in the outbox, optionally of one status."""
    query = select(func.count()).select_from(deliveries)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    async with database.transaction() as session:
        return int(await session.scalar(query) or 0)


class Outbox:
    """The engine, a responder, the planner and the notification service on one database."""

    def __init__(self, database: Database, config: Config) -> None:
        clock = SystemClock()
        self.database = database
        self.engine = AlertEngine(database, config, clock, ResultWriter(database, clock))
        self.responder = Responder(self.engine, config)
        database.plan_events_with(OutboxPlanner(config).plan)
        self.subscriptions = SubscriptionService(database, config, clock, key=KEY)
        channel = build_email_channel(config, {})
        assert channel is not None
        self.service = NotificationService(
            database=database, config=config, clock=clock, channels={"email": channel},
            subscriptions=self.subscriptions, acks=AckLinks(KEY[:32], SITE_URL),
            registry=CollectorRegistry(),
        )  # fmt: skip

    async def open_incident(self) -> int:
        """Open one incident as a responder would; its first public update mails everyone."""
        now = datetime.now(UTC)
        report = ManualIncident(
            name_ja="現物取引: 注文を受け付けられません", name_en="Spot trading: orders rejected",
            description="Orders are rejected <b>for all users</b>; we are investigating.",
            started_at=now, components={"spot": ComponentStatus.MAJOR_OUTAGE},
            body={"ja": "現在、注文を受け付けられない状態です。調査しています。",
                  "en": "Orders are currently rejected. We are investigating."},
        )  # fmt: skip
        return await self.responder.open(report, now, actor="bench")

    async def dispatch_all(self, expected: int) -> int:
        """Run the dispatcher until nothing is due; return how many it claimed."""
        stop = asyncio.Event()
        # The dispatcher as `exwatch run` runs it (its lanes, its poll), until nothing is left.
        running = asyncio.ensure_future(self.service.dispatcher.run(stop, poll=0.05))
        try:
            for _ in range(int(RUN_SECONDS / 0.1)):  # bounded: the run's time limit
                if not await self._any_left():
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await running
        finished = await count_deliveries(self.database) - await self._left()
        if finished != expected:
            raise RuntimeError(f"{finished} deliveries finished for {expected} planned")
        return finished

    async def _left(self) -> int:
        return await count_deliveries(self.database, "pending")

    async def _any_left(self) -> bool:
        # One index probe, not a count: counting 100,000 pending rows every 0.1 s charged run A
        # with work `exwatch run` never does.
        query = select(deliveries.c.id).where(deliveries.c.status == "pending").limit(1)
        async with self.database.transaction() as session:
            return (await session.scalar(query)) is not None


async def plan_a(database: Database, config: Config) -> dict[str, Any]:
    """Plan the fan-out: one incident opened by a responder; its deliveries committed with it."""
    outbox = Outbox(database, config)
    await outbox.engine.start()
    started = time.perf_counter()
    cpu_started = cpu_seconds()
    incident_id = await outbox.open_incident()
    committed = time.perf_counter()
    cpu_committed = cpu_seconds()
    return {
        "incident_id": incident_id, "planned": await count_deliveries(database),
        "planning_s": committed - started, "planning_cpu_s": cpu_committed - cpu_started,
        "outbox": outbox,
    }  # fmt: skip


async def run_a(plan: dict[str, Any]) -> dict[str, Any]:
    """Run the dispatcher on the planned fan-out until every delivery has its outcome."""
    outbox: Outbox = plan["outbox"]
    started = time.perf_counter()
    cpu_started = cpu_seconds()
    claimed = await outbox.dispatch_all(plan["planned"])
    finished = time.perf_counter()
    cpu_finished = cpu_seconds()
    sent = await count_deliveries(outbox.database, "sent")
    await outbox.service.stop()
    return {
        **plan, "claimed": claimed, "sent": sent, "sending_s": finished - started,
        "cpu_s": cpu_finished - cpu_started, "rate": sent / (finished - started),
    }  # fmt: skip


# --- run B: raw aiosmtplib -----------------------------------------------------------------


async def takes_8bit(port: int) -> bool:
    """Whether the sink offers 8BITMIME: then A's channel sends 8bit bodies, and so does B."""
    client = SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await client.connect()
    try:
        await client.ehlo()
        return client.supports_extension("8bitmime")
    finally:
        await client.quit()


async def rendered_messages(outbox: Outbox, config: Config, eight_bit: bool) -> dict[str, bytes]:
    """The fan-out's mail, rendered once per language by the channel's own code, as bytes."""
    email = config.notifications.email
    assert email is not None
    sender = sender_address(email.sender)
    renderer = Renderer(email.templates_dir, config.site.time_zone)
    reader = NoticeReader(config)
    async with outbox.database.transaction() as session:
        row = (await session.execute(select(deliveries).order_by(deliveries.c.id))).first()
        assert row is not None
        notice = await reader.notice(session, row.event_id)
        assert notice is not None
        people = await subscribers_by_ids(session=session, subscriber_ids=[1, 2])
    made: dict[str, bytes] = {}
    for person in people.values():
        links = outbox.subscriptions.mail_links(person)
        delivery = Delivery(
            row.id, "email", Recipient(f"subscriber:{person.id}", person.address, person.language),
            notice, 1, Links(links.unsubscribe_url, links.manage_url),
        )  # fmt: skip
        rendered = renderer.render(delivery)
        made[str(person.language)] = compose(
            delivery, rendered, sender, datetime.now(UTC), eight_bit=eight_bit
        )
    return made


async def run_b(
    port: int, messages: dict[str, bytes], count: int, first: int = 0, *, eight_bit: bool
) -> dict[str, Any]:
    """Send ``count`` pre-rendered messages on POOL_SIZE connections, CONCURRENCY at once."""
    clients: asyncio.LifoQueue[SMTP] = asyncio.LifoQueue()
    opened = [SMTP(hostname="127.0.0.1", port=port, timeout=30) for _ in range(POOL_SIZE)]
    for client in opened:
        await client.connect()
        clients.put_nowait(client)
    by_parity = (messages["en"], messages["ja"])
    sender = sender_address(SENDER).addr_spec
    options = ["BODY=8BITMIME"] if eight_bit else []  # as the channel's pool sends them
    next_index = first
    last = first + count
    failed = 0

    async def worker() -> None:
        nonlocal next_index, failed
        while next_index < last:
            index = next_index
            next_index += 1
            client = await clients.get()
            try:
                errors, _ = await client.sendmail(
                    sender, [f"user{index}@example.com"], by_parity[index % 2],
                    mail_options=options,
                )  # fmt: skip
                failed += len(errors)
            finally:
                clients.put_nowait(client)

    started = time.perf_counter()
    cpu_started = cpu_seconds()
    async with asyncio.timeout(RUN_SECONDS):
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    for client in opened:
        await client.quit()
    return {"sent": count - failed, "failed": failed, "seconds": elapsed, "cpu_s": cpu,
            "rate": (count - failed) / elapsed}  # fmt: skip


# --- the whole run -------------------------------------------------------------------------


async def sink_measured(sink_pid: int, run: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """``run``'s figures with the sink's CPU seconds while it ran."""
    before = process_cpu_seconds(sink_pid)
    figures = await run
    return {**figures, "sink_cpu_s": process_cpu_seconds(sink_pid) - before}


def merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two B runs as one: their messages over their summed time."""
    total = {key: first[key] + second[key] for key in ("sent", "failed", "seconds", "cpu_s")}
    total["sink_cpu_s"] = first["sink_cpu_s"] + second["sink_cpu_s"]
    return {**total, "rate": total["sent"] / total["seconds"]}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pin(sink_pid: int) -> str:
    """Give the sink the last CPU and this process (A and B alike) the others; say so.

    The sink stands in for a relay on another machine. Unpinned, the scheduler now and then
    runs sender and sink on one core, and a run's rates moved by ±15% from that alone.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return "not pinned (one CPU)"
    os.sched_setaffinity(sink_pid, {cpus[-1]})
    os.sched_setaffinity(0, set(cpus[:-1]))
    return f"sink on CPU {cpus[-1]}, sender on CPU {','.join(map(str, cpus[:-1]))}"


async def bench(root: Path, count: int, sink_kind: str, profile: str | None, pinned: bool) -> None:
    with sink(sink_kind) as (port, process):
        placement = pin(process.pid) if pinned else "not pinned"
        config = config_for(port)
        database = Database(f"sqlite+aiosqlite:///{root / 'bench.db'}")
        await upgrade(database)
        started = time.perf_counter()
        await add_subscribers(database, count)
        inserted = time.perf_counter() - started
        plan = await plan_a(database, config)
        eight_bit = await takes_8bit(port)
        messages = await rendered_messages(plan["outbox"], config, eight_bit)
        settle_after_startup()  # as `exwatch run` does once it has started; B runs with it too
        # B in two halves, before and after A: the machine's drift during a run (other load,
        # clock speed) weighs on both alike.
        first_half = await sink_measured(
            process.pid, run_b(port, messages, count // 2, eight_bit=eight_bit)
        )
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        a = await sink_measured(process.pid, run_a(plan))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        rest = a["sent"] - count // 2
        second_half = await sink_measured(
            process.pid, run_b(port, messages, rest, count // 2, eight_bit=eight_bit)
        )
        b = merged(first_half, second_half)
        await database.close()
    accepted = sink_count(process, sink_kind)
    sizes = ", ".join(f"{lang} {len(body)} B" for lang, body in sorted(messages.items()))
    print(f"sink: {sink_kind} on 127.0.0.1 (separate process; {placement}); {count} subscribers "
          f"(inserted in {inserted:.1f} s); pool {POOL_SIZE} connections, "
          f"concurrency {CONCURRENCY}; messages {sizes}, 8bit bodies: {'yes' if eight_bit else 'no'}")  # fmt: skip
    print(f"planning   open incident → {a['planned']} deliveries committed in "
          f"{a['planning_s']:.2f} s (cpu {a['planning_cpu_s']:.2f} s)")  # fmt: skip
    print(f"A outbox   {a['rate']:8.0f} deliveries/s  ({a['sent']} sent in "
          f"{a['sending_s']:.1f} s, claimed {a['claimed']}; cpu {a['cpu_s'] / a['sending_s']:.2f}"
          f" cores, sink {a['sink_cpu_s'] / a['sending_s']:.2f})")  # fmt: skip
    print(f"B raw      {b['rate']:8.0f} messages/s    ({b['sent']} sent in {b['seconds']:.1f} s, "
          f"{b['failed']} refused; cpu {b['cpu_s'] / b['seconds']:.2f} cores, "
          f"sink {b['sink_cpu_s'] / b['seconds']:.2f})")  # fmt: skip
    if accepted is not None:
        print(f"sink accepted {accepted} messages (A + B = {a['sent'] + b['sent']})")
    print(f"ratio A / B: {a['rate'] / b['rate']:.2f}×  (goal ≥ 0.8×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--sink", choices=("aiosmtpd", "smtp-sink"), default="aiosmtpd")
    parser.add_argument("--profile", help="write cProfile stats of run A to this file")
    parser.add_argument(
        "--no-pin", action="store_true", help="leave sender and sink to the scheduler"
    )
    parser.add_argument("--serve-sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink is not None:
        serve_aiosmtpd(args.serve_sink)
        return
    if not 1 <= args.subscribers <= 1_000_000:
        raise SystemExit("--subscribers must be between 1 and 1,000,000")
    with tempfile.TemporaryDirectory(prefix="exwatch-fanout-") as scratch:
        uvloop.run(bench(Path(scratch), args.subscribers, args.sink, args.profile, not args.no_pin))


if __name__ == "__main__":
    main()
