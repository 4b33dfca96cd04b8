"""The *Exchange overview* dashboard: status, availability against the SLO, latency, incidents."""

from __future__ import annotations

from dashboards.panels import (
    Json,
    custom_variable,
    dashboard,
    field_config,
    panel,
    query_variable,
    status_mappings,
    target,
    thresholds,
)

COMPONENT = 'component=~"$component"'
SLO_BUDGET = "(1 - $slo / 100)"
PERCENT = field_config("percentunit", decimals=3, min=0, max=1)


def status_panels() -> list[Json]:
    """The component status grid now and over time."""
    expr = f"max by (component) (exwatch_component_status{{{COMPONENT}}})"
    mapped = field_config(
        mappings=status_mappings(),
        thresholds=thresholds((None, "green")),
        color={"mode": "thresholds"},
    )
    return [
        panel(
            "stat", "Component status", [target(expr, "{{component}}", instant=True)], (24, 6),
            fieldConfig=mapped,
            options={"colorMode": "background", "textMode": "value_and_name", "graphMode": "none",
                     "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        ),
        panel(
            "state-timeline", "Component status over time", [target(expr, "{{component}}")],
            (24, 8), fieldConfig=mapped,
            options={"showValue": "never", "mergeValues": True, "rowHeight": 0.8},
        ),
    ]  # fmt: skip


def availability_panels() -> list[Json]:
    """Availability per component and overall, from the recording rules in rules.yml."""
    slo_line = target("vector($slo / 100)", "SLO")
    below_slo = field_config(
        "percentunit", decimals=3, thresholds=thresholds((None, "red"), (0.999, "green"))
    )
    return [
        panel(
            "stat", "Availability, 30 days", [
                target(f"exwatch:probe_success:ratio_rate30d{{{COMPONENT}}}", "{{component}}",
                       instant=True),
                target("exwatch:probe_success_group:ratio_rate30d", "group {{group}}",
                       instant=True),
                target("exwatch:probe_success_all:ratio_rate30d", "all components", instant=True),
            ], (12, 8), fieldConfig=below_slo,
            options={"colorMode": "background", "textMode": "value_and_name", "graphMode": "none",
                     "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        ),
        panel(
            "timeseries", "Availability (1 h window) against the SLO", [
                target(f"exwatch:probe_success:ratio_rate1h{{{COMPONENT}}}", "{{component}}"),
                target("exwatch:probe_success_group:ratio_rate1h", "group {{group}}"),
                target("exwatch:probe_success_all:ratio_rate1h", "all components"),
                slo_line,
            ], fieldConfig=PERCENT,
        ),
        panel(
            "timeseries", "Error budget burn rate (1 = spending exactly the budget)", [
                target(f"(1 - exwatch:probe_success:ratio_rate1h{{{COMPONENT}}}) / {SLO_BUDGET}",
                       "{{component}} 1h"),
                target(f"(1 - exwatch:probe_success:ratio_rate6h{{{COMPONENT}}}) / {SLO_BUDGET}",
                       "{{component}} 6h"),
            ], fieldConfig=field_config(
                "short", thresholds=thresholds((None, "green"), (1, "yellow"), (14.4, "red")),
                custom={"thresholdsStyle": {"mode": "line"}}),
        ),
        panel(
            "bargauge", "Error budget left, 30 days", [
                target(f"1 - (1 - exwatch:probe_success:ratio_rate30d{{{COMPONENT}}}) / "
                       f"{SLO_BUDGET}", "{{component}}", instant=True),
            ], fieldConfig=field_config(
                "percentunit", min=0, max=1,
                thresholds=thresholds((None, "red"), (0.25, "yellow"), (0.5, "green"))),
            options={"orientation": "horizontal", "displayMode": "gradient"},
        ),
    ]  # fmt: skip


def latency_panels() -> list[Json]:
    """Probe latency by phase and by region (p95 of the duration histogram)."""
    selector = f'{COMPONENT}, region=~"$region"'
    by_phase = (
        "histogram_quantile(0.95, sum by (le, phase) "
        f"(rate(exwatch_probe_duration_seconds_bucket{{{selector}}}[$__rate_interval])))"
    )
    by_region = (
        "histogram_quantile(0.95, sum by (le, region) (rate(exwatch_probe_duration_seconds_bucket"
        f'{{{selector}, phase="total"}}[$__rate_interval])))'
    )
    return [
        panel("timeseries", "Probe latency p95 by phase", [target(by_phase, "{{phase}}")],
              fieldConfig=field_config("s")),
        panel("timeseries", "Probe latency p95 by region (total)",
              [target(by_region, "{{region}}")], fieldConfig=field_config("s")),
    ]  # fmt: skip


def incident_panels() -> list[Json]:
    """Open incidents by severity and firing alerts by component."""
    return [
        panel(
            "bargauge", "Open incidents by severity",
            [target("sum by (severity) (exwatch_incidents_open)", "{{severity}}", instant=True)],
            fieldConfig=field_config(
                "none", thresholds=thresholds((None, "green"), (1, "red")), min=0),
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        panel(
            "timeseries", "Firing alerts by component",
            [target(f"sum by (component) (exwatch_alerts_firing{{{COMPONENT}}})",
                    "{{component}}")],
            fieldConfig=field_config("none", min=0),
        ),
    ]  # fmt: skip


def build() -> Json:
    """The whole *Exchange overview* dashboard."""
    variables = [
        custom_variable("slo", "SLO (%)", ["99", "99.5", "99.9", "99.95", "99.99"], "99.9"),
        query_variable("component", "label_values(exwatch_probe_success, component)"),
        query_variable("region", "label_values(exwatch_probe_success, region)"),
    ]
    panels = [*status_panels(), *availability_panels(), *latency_panels(), *incident_panels()]
    return dashboard("exwatch-overview", "exwatch · Exchange overview", panels, variables)
