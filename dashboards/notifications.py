"""The *Notifications* dashboard: deliveries, failures, retries, dead letters and the outbox."""

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

CHANNEL = 'channel=~"$channel"'
FAILED = 'outcome=~"retryable|permanent|dropped"'


def _rate(metric: str, selector: str = CHANNEL) -> str:
    """Per-second rate of ``metric`` by channel."""
    return f"sum by (channel) (rate({metric}{{{selector}}}[$__rate_interval]))"


def delivery_panels() -> list[Json]:
    """Deliveries, failures and the failure ratio by channel; attempts by outcome."""
    sends = "exwatch_notification_sends_total"
    ratio = f"{_rate(sends, f'{CHANNEL}, {FAILED}')} / {_rate(sends)}"
    per_second = field_config("reqps", min=0)
    return [
        panel("timeseries", "Deliveries by channel",
              [target(_rate(sends, f'{CHANNEL}, outcome="ok"'), "{{channel}}")],
              fieldConfig=per_second),
        panel("timeseries", "Attempts by outcome",
              [target(f"sum by (outcome) (rate({sends}{{{CHANNEL}}}[$__rate_interval]))",
                      "{{outcome}}")], fieldConfig=per_second),
        panel("timeseries", "Failures by channel",
              [target(_rate(sends, f"{CHANNEL}, {FAILED}"), "{{channel}}")],
              fieldConfig=per_second),
        panel("timeseries", "Failure ratio by channel", [target(ratio, "{{channel}}")],
              fieldConfig=field_config("percentunit", min=0, max=1)),
        panel("timeseries", "Retries by channel",
              [target(_rate("exwatch_notification_retries_total"), "{{channel}}")],
              fieldConfig=per_second),
        panel("timeseries", "Send latency p95 by channel",
              [target("histogram_quantile(0.95, sum by (le, channel) (rate("
                      f"exwatch_notification_send_seconds_bucket{{{CHANNEL}}}"
                      "[$__rate_interval])))", "{{channel}}")],
              fieldConfig=field_config("s")),
    ]  # fmt: skip


def outbox_panels() -> list[Json]:
    """Outbox lag and backlog, and dead letters."""
    dead = "exwatch_notification_dead_letters_total"
    return [
        panel("timeseries", "Outbox lag (oldest pending delivery)",
              [target("max(exwatch_outbox_oldest_pending_seconds)", "oldest pending")],
              fieldConfig=field_config(
                  "s", min=0, thresholds=thresholds((None, "green"), (300, "red")),
                  custom={"thresholdsStyle": {"mode": "line"}})),
        panel("timeseries", "Outbox pending by channel",
              [target(f"sum by (channel) (exwatch_outbox_pending{{{CHANNEL}}})", "{{channel}}")],
              fieldConfig=field_config("none", min=0)),
        panel("stat", "Dead letters in range",
              [target(f"sum by (channel) (increase({dead}{{{CHANNEL}}}[$__range]))",
                      "{{channel}}", instant=True)], (8, 8),
              fieldConfig=field_config(
                  "none", decimals=0, thresholds=thresholds((None, "green"), (1, "red"))),
              options={"colorMode": "background", "graphMode": "none"}),
        panel("timeseries", "Dead letters by channel",
              [target(f"sum by (channel) (increase({dead}{{{CHANNEL}}}[$__rate_interval]))",
                      "{{channel}}")], (16, 8),
              fieldConfig=field_config("none", min=0, custom={"drawStyle": "bars"})),
    ]  # fmt: skip


def build() -> Json:
    """The whole *Notifications* dashboard."""
    variables = [
        query_variable("channel", "label_values(exwatch_notification_sends_total, channel)")
    ]
    panels = [*delivery_panels(), *outbox_panels()]
    return dashboard("exwatch-notifications", "exwatch · Notifications", panels, variables)
