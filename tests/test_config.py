"""Config: the example loads; every kind of error names its path (table-driven)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.config import ConfigError, load_config, parse_config
from monitor.domain import Severity

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "exchange.yaml"
ENV = {"EXWATCH_DEMO_EXCHANGE_URL": "http://127.0.0.1:9"}

BASE = {
    "site": {"name": "Test Exchange"},
    "groups": [{"id": "trading", "names": {"ja": "取引", "en": "Trading"}}],
    "components": [
        {
            "id": "trading-engine",
            "names": {"ja": "取引エンジン", "en": "Trading engine"},
            "group": "trading",
            "impact_class": "trading",
        },
        {
            "id": "order-entry",
            "names": {"ja": "注文受付", "en": "Order entry"},
            "group": "trading",
            "impact_class": "trading",
            "depends_on": ["trading-engine"],
        },
    ],
    "checks": [
        {
            "id": "engine-health",
            "component": "trading-engine",
            "kind": "http",
            "url": "http://127.0.0.1:9/health",
            "interval": "10s",
            "timeout": "2s",
            "conditions": ["[STATUS] == 200"],
        }
    ],
}


def _with(path: str, value: object) -> str:
    """Return BASE as YAML with the value at a dotted path (``checks.0.interval``) replaced."""
    document = yaml.safe_load(yaml.safe_dump(BASE))
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return yaml.safe_dump(document, allow_unicode=True)


def test_the_example_loads() -> None:
    config = load_config(EXAMPLE, env=ENV)
    impact_classes = {c.impact_class for c in config.components}
    assert len(config.components) >= 12
    assert impact_classes == {"trading", "assets", "access", "information"}
    assert {g.id for g in config.groups} >= {"trading", "funding", "web-apps", "api", "account"}
    assert all(str(c.url).startswith("http://127.0.0.1:9/") for c in config.checks)


def test_defaults_fill_in() -> None:
    config = parse_config(yaml.safe_dump(BASE))
    assert config.site.time_zone == "Asia/Tokyo"
    assert config.site.languages == ("ja", "en")
    check = config.checks[0]
    assert (check.interval, check.timeout, check.failures_to_alert) == (10.0, 2.0, 2)
    assert config.severity.table["trading"]["major_outage"] == Severity.CRITICAL


def test_a_severity_cell_can_be_overridden_alone() -> None:
    text = _with("severity", {"table": {"information": {"major_outage": "critical"}}})
    table = parse_config(text).severity.table
    assert table["information"]["major_outage"] == Severity.CRITICAL
    assert table["information"]["degraded_performance"] == Severity.MINOR
    assert table["trading"]["major_outage"] == Severity.CRITICAL


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("checks.0.interval", "0.5s", "checks[0].interval: must be at least 1s"),
        ("checks.0.interval", "soon", "checks[0].interval: 'soon' is not a duration"),
        ("checks.0.component", "tradng", "checks[0].component: unknown component 'tradng'"),
        ("checks.0.kind", "htp", "checks[0].kind: unknown check kind 'htp'"),
        ("checks.0.timeout", "30s", "checks[0].timeout: must not exceed the interval (30s > 10s)"),
        (
            "checks.0.failures_to_alert",
            0,
            "checks[0].failures_to_alert: Input should be greater than or equal to 1",
        ),
        (
            "checks.0.on_failure",
            "broken",
            "checks[0].on_failure: Input should be 'degraded_performance'",
        ),
        ("checks.0.conditions", ["[STATUS] = 200"], "checks[0].conditions[0]: column 10:"),
        (
            "checks.0.conditions",
            ["200 == 200"],
            "checks[0].conditions[0]: column 1: a condition needs a placeholder",
        ),
        ("checks.0.url", "not a url", "checks[0].url: Input should be a valid URL"),
        ("checks.0.surprise", 1, "checks[0].surprise: unknown key"),
        (
            "components.0.impact_class",
            "money",
            "components[0].impact_class: Input should be 'trading'",
        ),
        (
            "components.0.group",
            "tradin",
            "components[0].group: unknown group 'tradin' (did you mean 'trading'?)",
        ),
        (
            "components.1.depends_on",
            ["nothing"],
            "components[1].depends_on[0]: unknown component 'nothing'",
        ),
        (
            "components.1.depends_on",
            ["order-entry"],
            "components[1].depends_on[0]: a component cannot depend on itself",
        ),
        ("components.0.id", "Trading Engine", "components[0].id: String should match pattern"),
        ("components.0.names", {"ja": "取引エンジン"}, "components[0].names.en: required"),
        ("site.time_zone", "Mars/Olympus", "site.time_zone: unknown time zone 'Mars/Olympus'"),
        ("site.languages", ["fr"], "site.languages[0]: Input should be 'ja' or 'en'"),
        ("site.colour", "red", "site.colour: unknown key"),
        (
            "severity.table",
            {"trading": {"major_outage": "apocalyptic"}},
            "severity.table.trading.major_outage: Input should be 'minor'",
        ),
    ],
)
def test_each_error_names_its_path(path: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_with(path, value))
    assert any(p.startswith(expected) for p in raised.value.problems), raised.value.problems


def test_duplicate_ids_and_cycles_are_reported() -> None:
    text = _with("components.0.depends_on", ["order-entry"])
    with pytest.raises(ConfigError) as raised:
        parse_config(text.replace("id: engine-health", "id: engine-health\n  x: 1"))
    assert "checks[0].x: unknown key" in raised.value.problems
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert (
        "components[0].depends_on: dependency cycle through 'trading-engine'"
        in raised.value.problems
    )
    document = yaml.safe_load(yaml.safe_dump(BASE))
    document["checks"].append(dict(document["checks"][0]))
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml.safe_dump(document))
    assert raised.value.problems == ["checks[1].id: duplicate id 'engine-health'"]


def test_environment_references_expand_or_are_named() -> None:
    text = _with("checks.0.url", "${EXCHANGE}/health")
    config = parse_config(text, env={"EXCHANGE": "http://10.0.0.1:8"})
    assert str(config.checks[0].url) == "http://10.0.0.1:8/health"
    assert (
        str(parse_config(_with("checks.0.url", "${EXCHANGE:-http://h}/x"), env={}).checks[0].url)
        == "http://h/x"
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(text, env={})
    assert raised.value.problems == ["checks[0].url: environment variable EXCHANGE is not set"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("site: [unclosed", "line 1, column 16: expected ',' or ']'"),
        ("- just\n- a list\n", "<root>: the config must be a mapping"),
        ("site: {name: x}\n", "components: required"),
    ],
)
def test_broken_documents(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert raised.value.problems[0].startswith(expected), raised.value.problems


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "nope.yaml")
    assert raised.value.problems[0].startswith("<file>: cannot read")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "checks.0.headers",
            {"X-A": "a\r\nInjected: 1"},
            "checks[0].headers: header 'X-A' contains a line break",
        ),
        (
            "checks.0.conditions",
            ["[STAUTS] == 200"],
            "checks[0].conditions: '[STAUTS] == 200': unknown placeholder [STAUTS]",
        ),
        ("checks.0.timeout", 0, "checks[0].timeout: Input should be greater than 0"),
        ("checks.0.interval", ".inf", "checks[0].interval: a duration must be finite"),
    ],
)
def test_values_that_would_only_fail_later_are_refused(
    path: str, value: object, expected: str
) -> None:
    text = _with(path, value).replace("'.inf'", ".inf")
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert any(p.startswith(expected) for p in raised.value.problems), raised.value.problems


def test_a_recursive_anchor_is_an_error_not_a_crash() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("site: &s {name: X, x: *s}\ncomponents: []\n")
    assert raised.value.problems == ["<root>: a YAML anchor refers to itself"]


def test_invalid_items_do_not_also_report_a_short_list() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(
            _with("components", [{"id": "BAD"}]).replace(
                "component: trading-engine", "component: x"
            )
        )
    assert not any(p.startswith("components: must have") for p in raised.value.problems)
