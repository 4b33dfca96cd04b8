"""The *Incidents* dashboard: opened and resolved, MTTA and MTTR, severity mix, first update."""

from __future__ import annotations

from dashboards.panels import Json, dashboard, field_config, panel, query_variable, target

SEVERITY = 'severity=~"$severity"'


def _mean(histogram: str) -> str:
    """Mean of ``histogram`` over the dashboard's time range."""
    return (
        f"sum(increase({histogram}_sum{{{SEVERITY}}}[$__range])) / "
        f"sum(increase({histogram}_count{{{SEVERITY}}}[$__range]))"
    )


def _quantile(quantile: float, histogram: str) -> str:
    """``quantile`` of ``histogram`` by severity, over a sliding day."""
    return (
        f"histogram_quantile({quantile}, sum by (le, severity) "
        f"(increase({histogram}_bucket{{{SEVERITY}}}[1d])))"
    )


def _increase(counter: str, window: str) -> str:
    """Increase of ``counter`` by severity over ``window``."""
    return f"sum by (severity) (increase({counter}{{{SEVERITY}}}[{window}]))"


def count_panels() -> list[Json]:
    """Incidents opened and resolved over time, and the severity mix."""
    opened = _increase("exwatch_incidents_opened_total", "$__rate_interval")
    resolved = _increase("exwatch_incidents_resolved_total", "$__rate_interval")
    mix = _increase("exwatch_incidents_opened_total", "$__range")
    bars = field_config("none", min=0, custom={"drawStyle": "bars", "fillOpacity": 60})
    return [
        panel("timeseries", "Incidents opened", [target(opened, "{{severity}}")],
              fieldConfig=bars),
        panel("timeseries", "Incidents resolved", [target(resolved, "{{severity}}")],
              fieldConfig=bars),
        panel("piechart", "Severity mix (opened in range)",
              [target(mix, "{{severity}}", instant=True)], (8, 8),
              options={"pieType": "donut", "legend": {"displayMode": "table", "placement": "right",
                                                      "values": ["value"]}}),
        panel("stat", "Open now",
              [target(f"sum by (severity) (exwatch_incidents_open{{{SEVERITY}}})", "{{severity}}",
                      instant=True)], (8, 8), fieldConfig=field_config("none")),
        panel("stat", "Opened / resolved in range", [
            target(f"sum(increase(exwatch_incidents_opened_total{{{SEVERITY}}}[$__range]))",
                   "opened", instant=True),
            target(f"sum(increase(exwatch_incidents_resolved_total{{{SEVERITY}}}[$__range]))",
                   "resolved", instant=True),
        ], (8, 8), fieldConfig=field_config("none", decimals=0)),
    ]  # fmt: skip


def timing_panels() -> list[Json]:
    """MTTA, MTTR and time to the first public update: means and quantiles by severity."""
    timings = (
        ("MTTA (detection → acknowledgement)", "exwatch_incident_acknowledge_seconds"),
        ("MTTR (detection → resolution)", "exwatch_incident_resolve_seconds"),
        ("Time to first public update", "exwatch_incident_first_update_seconds"),
    )
    means = panel(
        "stat", "Means over the range",
        [target(_mean(histogram), title.split(" (")[0], instant=True)
         for title, histogram in timings],
        (24, 5), fieldConfig=field_config("s"),
    )  # fmt: skip
    trends = [
        panel(
            "timeseries",
            f"{title}, p50 / p90 by severity (1 d window)",
            [
                target(_quantile(0.5, histogram), "p50 {{severity}}"),
                target(_quantile(0.9, histogram), "p90 {{severity}}"),
            ],
            (8, 8),
            fieldConfig=field_config("s"),
        )
        for title, histogram in timings
    ]
    return [means, *trends]


def build() -> Json:
    """The whole *Incidents* dashboard."""
    variables = [query_variable("severity", "label_values(exwatch_incidents_open, severity)")]
    panels = [*count_panels(), *timing_panels()]
    return dashboard("exwatch-incidents", "exwatch · Incidents", panels, variables)
