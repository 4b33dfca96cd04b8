"""The README's metrics table and the metrics an app's registry holds, in one shape to compare."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from monitor.cluster.change_feed import ChangeFeed
from monitor.cluster.leadership import Leadership
from monitor.storage.database import Database

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Metrics (`/metrics`)"
NO_LABELS = frozenset[str]()
# Labels the exposition adds to samples, not labels of the metric.
SAMPLE_LABELS = {"le", "quantile"}


@dataclass(frozen=True)
class Entry:
    """One metric: its exposed name (counters with ``_total``), type and label names."""

    name: str
    type: str
    labels: frozenset[str]


def documented() -> dict[str, Entry]:
    """The rows of the README's metrics table, by name."""
    text = README.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    entries: dict[str, Entry] = {}
    for line in section.splitlines():
        match = re.match(r"\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|", line)
        if match is None:
            continue
        name, kind, labels = (part.strip() for part in match.groups())
        names = NO_LABELS if labels == "—" else frozenset(x.strip() for x in labels.split(","))
        entries[name] = Entry(name, kind, names)
    return entries


def in_code(registry: CollectorRegistry) -> dict[str, Entry]:
    """Every family of ``registry``: declared label names for client metrics, else from samples."""
    entries: dict[str, Entry] = {}
    for collector in list(registry._collector_to_names):
        declared = _declared(collector)
        if declared is not None:
            entries[declared.name] = declared
            continue
        for family in collector.collect():
            name = f"{family.name}_total" if family.type == "counter" else family.name
            labels = {k for s in family.samples for k in s.labels} - SAMPLE_LABELS
            entries[name] = Entry(name, family.type, frozenset(labels))
    return entries


def _declared(collector: object) -> Entry | None:
    if not isinstance(collector, MetricWrapperBase):
        return None
    kind = collector._type
    name = collector._name
    exposed = f"{name}_total" if kind == "counter" else name
    return Entry(exposed, kind, frozenset(collector._labelnames))


def role_registry(database: Database) -> CollectorRegistry:
    """The families only ``--role api`` (the change feed) and ``--role engine`` (the election) add."""
    registry = CollectorRegistry()

    async def nothing(*_: object) -> None:
        return None

    ChangeFeed(database, nothing, registry=registry)
    Leadership("postgresql+asyncpg://exwatch@127.0.0.1/exwatch", "catalog",
               on_elected=nothing, on_deposed=nothing, registry=registry)  # fmt: skip
    return registry
