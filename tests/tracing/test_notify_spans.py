"""Each notification send is a span naming its channel, delivery and outcome."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from monitor.domain import ComponentStatus
from monitor.storage.database import Database
from notifiers.channel import SendOutcome
from tests.notifiers.outbox_support import Outbox, outbox_config
from tests.support import FakeClock
from tests.tracing.support import named


async def test_every_send_has_a_span_with_its_outcome(
    spans: InMemorySpanExporter, database: Database, clock: FakeClock
) -> None:
    outbox = Outbox(database, outbox_config(), clock)
    await outbox.engine.start()
    await outbox.subscribe("all@example.com")
    outbox.channels["x"].script.append(SendOutcome.permanent("duplicate status"))
    await outbox.open_manual({"btc-trading": ComponentStatus.MAJOR_OUTAGE}, severity="critical")
    claimed = await outbox.drain()
    sends = named(spans, "exwatch.notify")
    assert claimed > 0 and len(sends) == claimed
    seen = {
        (span.attributes["exwatch.channel"], span.attributes["exwatch.outcome"])
        for span in sends
        if span.attributes is not None
    }
    assert ("email", "ok") in seen and ("x", "permanent") in seen
    ids = {row.id for row in await outbox.rows()}
    assert {span.attributes["exwatch.delivery"] for span in sends if span.attributes} == ids


async def test_a_responder_opening_an_incident_is_a_span_naming_them(
    spans: InMemorySpanExporter, database: Database, clock: FakeClock
) -> None:
    outbox = Outbox(database, outbox_config(), clock)
    await outbox.engine.start()
    incident = await outbox.open_manual({"btc-trading": ComponentStatus.MAJOR_OUTAGE})
    [opened] = named(spans, "exwatch.timeline.incident_opened")
    assert opened.attributes is not None
    assert opened.attributes["exwatch.actor"] == "alice"
    assert opened.attributes["exwatch.incident"] == incident
