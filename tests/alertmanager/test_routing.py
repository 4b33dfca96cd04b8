"""Labels → component and status, with reasons; summaries, causes and the config cross-checks."""

from __future__ import annotations

import pytest
import yaml

from monitor.alertmanager.routing import Route, Unrouted, alert_cause, alert_summary, route_alert
from monitor.config import ConfigError, parse_config
from monitor.config.policies import AlertmanagerInput
from tests.alertmanager.support import make_config

CONFIG = make_config().alertmanager
KNOWN = ("trading-engine", "charts", "btc-withdrawals", "login", "monitoring")

# labels → (component, status, where the status came from)
ROUTES = [
    ({"component": "charts", "severity": "warning"}, ("charts", "partial_outage", "label severity='warning'")),
    ({"component": "charts", "severity": "CRITICAL"}, ("charts", "major_outage", "label severity='critical'")),
    ({"component": "charts", "severity": "info"}, ("charts", "degraded_performance", "label severity='info'")),
    ({"component": "charts", "severity": "page"}, ("charts", "major_outage", "default for an alert without a status or severity")),
    ({"component": "charts"}, ("charts", "major_outage", "default for an alert without a status or severity")),
    (
        {"component": "charts", "exwatch_status": "degraded_performance", "severity": "critical"},
        ("charts", "degraded_performance", "label exwatch_status='degraded_performance'"),
    ),
    (  # not a failure status: the label is ignored, the severity decides
        {"component": "charts", "exwatch_status": "operational", "severity": "info"},
        ("charts", "degraded_performance", "label severity='info'"),
    ),
    (  # an on_failure written in the config outranks the severity label
        {"job": "wallet", "severity": "info"},
        ("btc-withdrawals", "partial_outage", "alertmanager.matchers[1].on_failure"),
    ),
    (  # a matcher without on_failure leaves the status to the severity label
        {"service": "auth", "severity": "info"},
        ("login", "degraded_performance", "label severity='info'"),
    ),
    (  # the component label wins over matchers; another component's on_failure does not apply
        {"component": "charts", "job": "wallet", "severity": "info"},
        ("charts", "degraded_performance", "label severity='info'"),
    ),
    (  # an unknown component label falls back to the matchers
        {"component": "chart", "job": "wallet"},
        ("btc-withdrawals", "partial_outage", "alertmanager.matchers[1].on_failure"),
    ),
    (
        {"alertname": "DemoAlert", "exwatch_status": "partial_outage"},
        ("monitoring", "partial_outage", "label exwatch_status='partial_outage'"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("labels", "expected"), ROUTES)
def test_routes(labels: dict[str, str], expected: tuple[str, str, str]) -> None:
    found = route_alert(labels, CONFIG, KNOWN)
    assert isinstance(found, Route), found
    assert (found.component_id, found.failure_status, found.status_from) == expected


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"alertname": "X"}, "no 'component' label and no alertmanager.matchers entry matches"),
        ({"component": "chart"}, "label component='chart' names no component (did you mean 'charts'?)"),
        ({"component": "zzz"}, "label component='zzz' names no component"),
        ({"job": "wallets"}, "no 'component' label and no alertmanager.matchers entry matches"),
    ],
)  # fmt: skip
def test_unrouted_alerts_say_why(labels: dict[str, str], reason: str) -> None:
    assert route_alert(labels, CONFIG, KNOWN) == Unrouted(reason)


def test_the_label_names_are_configurable() -> None:
    config = AlertmanagerInput(component_label="exwatch_component", status_label="impact")
    found = route_alert({"exwatch_component": "login", "impact": "partial_outage"}, config, KNOWN)
    assert found == Route(
        "login",
        "label exwatch_component='login'",
        "partial_outage",
        "label impact='partial_outage'",
    )
    assert isinstance(route_alert({"component": "login"}, config, KNOWN), Unrouted)


@pytest.mark.parametrize(
    ("label", "cause"),
    [("security/ddos", "security"), ("external", "external"), ("bogus", None), (None, None)],
)
def test_a_cause_label_names_the_cause_when_valid(label: str | None, cause: str | None) -> None:
    assert alert_cause({} if label is None else {"cause": label}) == cause


@pytest.mark.parametrize(
    ("annotations", "labels", "summary"),
    [
        ({"summary": "S", "description": "D"}, {"alertname": "A"}, "S"),
        ({"summary": "  ", "description": "D"}, {"alertname": "A"}, "D"),
        ({}, {"alertname": "A"}, "A"),
        ({}, {}, "alert from Alertmanager"),
        ({"summary": "x\0y"}, {}, "xy"),
        ({"summary": "z" * 5000}, {}, "z" * 1000),
    ],
)
def test_summaries(annotations: dict[str, str], labels: dict[str, str], summary: str) -> None:
    assert alert_summary(labels, annotations) == summary


def _config_with(alertmanager: dict[str, object]) -> str:
    return yaml.safe_dump(
        {
            "site": {"name": "T"},
            "components": [
                {"id": "charts", "names": {"ja": "c", "en": "c"}, "impact_class": "information"}
            ],
            "alertmanager": alertmanager,
        }
    )


def test_config_matchers_must_name_known_components() -> None:
    text = _config_with(
        {
            "matchers": [
                {"labels": {"a": "b"}, "component": "charts"},
                {"labels": {"a": "c"}, "component": "chart"},
            ]
        }
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert raised.value.problems == [
        "alertmanager.matchers[1].component: unknown component 'chart' (did you mean 'charts'?)"
    ]


def test_config_status_and_component_labels_must_differ() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_config_with({"component_label": "x", "status_label": "x"}))
    assert raised.value.problems == [
        "alertmanager.status_label: must differ from component_label (both are 'x')"
    ]
