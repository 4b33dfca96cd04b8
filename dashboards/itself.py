"""The *exwatch itself* dashboard: scheduler and loop lag, DB latency, pages, process resources."""

from __future__ import annotations

from dashboards.panels import (
    Json,
    dashboard,
    field_config,
    panel,
    query_variable,
    target,
    thresholds,
)

JOB = 'job=~"$job"'
UP_MAPPINGS = [
    {
        "type": "value",
        "options": {"0": {"text": "down", "color": "red"}, "1": {"text": "up", "color": "green"}},
    }
]


def _quantile(quantile: float, metric: str, by: str = "") -> str:
    """``quantile`` of histogram ``metric`` (optionally by the label ``by``)."""
    labels = f"le, {by}" if by else "le"
    return (
        f"histogram_quantile({quantile}, sum by ({labels}) "
        f"(rate({metric}_bucket{{{JOB}}}[$__rate_interval])))"
    )


def health_panels() -> list[Json]:
    """Up, probe throughput, scheduler lag and event loop lag."""
    runs = f"sum by (outcome) (rate(exwatch_probe_runs_total{{{JOB}}}[$__rate_interval]))"
    return [
        panel("stat", "exwatch up", [target(f"up{{{JOB}}}", "{{instance}}", instant=True)],
              (6, 8), fieldConfig=field_config("none", mappings=UP_MAPPINGS),
              options={"colorMode": "background", "graphMode": "none"}),
        panel("timeseries", "Probe runs per second by outcome",
              [target(runs, "{{outcome}}")], (18, 8), fieldConfig=field_config("ops", min=0)),
        panel("timeseries", "Scheduler lag", [
            target(_quantile(0.5, "exwatch_scheduler_lag_seconds"), "p50"),
            target(_quantile(0.99, "exwatch_scheduler_lag_seconds"), "p99"),
        ], fieldConfig=field_config("s", thresholds=thresholds((None, "green"), (1, "red")),
                                    custom={"thresholdsStyle": {"mode": "line"}})),
        panel("timeseries", "Event loop lag", [
            target(_quantile(0.5, "exwatch_event_loop_lag_seconds"), "p50"),
            target(_quantile(0.99, "exwatch_event_loop_lag_seconds"), "p99"),
        ], fieldConfig=field_config("s")),
    ]  # fmt: skip


def database_panels() -> list[Json]:
    """Database query latency and rate by operation."""
    queries = (
        f"sum by (operation) (rate(exwatch_db_query_seconds_count{{{JOB}}}[$__rate_interval]))"
    )
    return [
        panel("timeseries", "DB query latency p95 by operation",
              [target(_quantile(0.95, "exwatch_db_query_seconds", "operation"), "{{operation}}")],
              fieldConfig=field_config("s")),
        panel("timeseries", "DB queries per second by operation",
              [target(queries, "{{operation}}")], fieldConfig=field_config("ops", min=0)),
    ]  # fmt: skip


def page_panels() -> list[Json]:
    """Public page requests by document and code, and the share answered 304 (cache hits)."""
    requests = "exwatch_page_requests_total"
    hit_ratio = (
        f'sum(rate({requests}{{{JOB}, code="304"}}[$__rate_interval])) / '
        f"sum(rate({requests}{{{JOB}}}[$__rate_interval]))"
    )
    return [
        panel("timeseries", "Page requests by document",
              [target(f"sum by (document) (rate({requests}{{{JOB}}}[$__rate_interval]))",
                      "{{document}}")], (8, 8), fieldConfig=field_config("reqps", min=0)),
        panel("timeseries", "Page requests by code",
              [target(f"sum by (code) (rate({requests}{{{JOB}}}[$__rate_interval]))",
                      "{{code}}")], (8, 8), fieldConfig=field_config("reqps", min=0)),
        panel("timeseries", "Cache hit ratio (304 / all)", [target(hit_ratio, "hit ratio")],
              (8, 8), fieldConfig=field_config("percentunit", min=0, max=1)),
    ]  # fmt: skip


def process_panels() -> list[Json]:
    """CPU, memory and file descriptors of the exwatch process."""
    return [
        panel("timeseries", "CPU",
              [target(f"rate(process_cpu_seconds_total{{{JOB}}}[$__rate_interval])",
                      "{{instance}}")], (8, 8), fieldConfig=field_config("percentunit", min=0)),
        panel("timeseries", "Resident memory",
              [target(f"process_resident_memory_bytes{{{JOB}}}", "{{instance}}")], (8, 8),
              fieldConfig=field_config("bytes", min=0)),
        panel("timeseries", "Open file descriptors", [
            target(f"process_open_fds{{{JOB}}}", "open {{instance}}"),
            target(f"process_max_fds{{{JOB}}}", "max {{instance}}"),
        ], (8, 8), fieldConfig=field_config("none", min=0)),
    ]  # fmt: skip


def build() -> Json:
    """The whole *exwatch itself* dashboard."""
    variables = [query_variable("job", "label_values(exwatch_probe_runs_total, job)")]
    panels = [*health_panels(), *database_panels(), *page_panels(), *process_panels()]
    return dashboard("exwatch-self", "exwatch · exwatch itself", panels, variables)
