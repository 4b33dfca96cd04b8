"""Every dashboard expression parses (promtool) and reads only metrics exwatch has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from monitor.storage.database import Database
from tests.dashboards.catalog import catalog, series_names
from tests.dashboards.promql_names import metric_names
from tests.dashboards.support import (
    DASHBOARDS,
    Query,
    load,
    promtool,
    queries,
    rule_entries,
    substitute,
)

LABEL_VALUES = re.compile(r"label_values\((\w+),")


def _as_rules(items: list[Query]) -> str:
    """``items`` as recording rules, one group per dashboard, named after panel and refId."""
    groups: dict[str, list[dict[str, str]]] = {}
    for number, query in enumerate(items):
        group = groups.setdefault(query.dashboard, [])
        group.append(
            {"record": f"dashboard:expr_{number}:{query.ref_id}", "expr": substitute(query.expr)}
        )
    return yaml.safe_dump({"groups": [{"name": n, "rules": r} for n, r in groups.items()]})


def test_there_are_queries_in_every_dashboard() -> None:
    assert {query.dashboard for query in queries()} == set(DASHBOARDS)


def test_every_expression_parses(tmp_path: Path) -> None:
    items = list(queries())
    rules = tmp_path / "dashboards.yml"
    rules.write_text(_as_rules(items))
    result = promtool("check", "rules", str(rules))
    index = "\n".join(f"expr_{n}: {q.where}" for n, q in enumerate(items))
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{index}"
    assert f"SUCCESS: {len(items)} rules found" in result.stdout


def test_a_broken_expression_fails_the_parse_check(tmp_path: Path) -> None:
    rules = tmp_path / "broken.yml"
    rules.write_text(_as_rules([Query("d", "p", "A", "sum by (le) (rate(x[$__rate_interval])")]))
    assert promtool("check", "rules", str(rules)).returncode != 0


def test_unknown_grafana_variables_are_not_silently_substituted() -> None:
    with pytest.raises(KeyError):
        substitute('up{job="$nonexistent"}')


def test_the_catalog_maps_family_types_to_scraped_names() -> None:
    registry = CollectorRegistry()
    Counter("c", "c", registry=registry)
    Gauge("g", "g", registry=registry)
    Histogram("h_seconds", "h", registry=registry)
    names = series_names(registry)
    assert {"c_total", "g", "h_seconds_bucket", "h_seconds_sum", "h_seconds_count"} <= names
    assert "c" not in names
    assert "h_seconds" not in names


def _used_names() -> dict[str, set[str]]:
    """Metric name -> where it is used: panel targets, variable queries and rules.yml."""
    used: dict[str, set[str]] = {}
    for query in queries():
        for name in metric_names(substitute(query.expr)):
            used.setdefault(name, set()).add(query.where)
    for dashboard in DASHBOARDS:
        for variable in load(dashboard)["templating"]["list"]:
            for name in LABEL_VALUES.findall(variable.get("definition", "")):
                used.setdefault(name, set()).add(f"{dashboard} / variable {variable['name']}")
    for rule in rule_entries():
        for name in metric_names(rule["expr"]):
            used.setdefault(name, set()).add(f"rules.yml / {rule.get('record') or rule['alert']}")
    return used


async def test_every_metric_an_expression_uses_is_in_the_catalog(database: Database) -> None:
    known = await catalog(database)
    used = _used_names()
    missing = {name: sorted(where) for name, where in used.items() if name not in known}
    assert not missing, "metrics not in exwatch's catalog:\n" + "\n".join(
        f"  {name}: used by {', '.join(where)}" for name, where in sorted(missing.items())
    )
    assert {"exwatch_probe_runs_total", "up"} <= set(used)
