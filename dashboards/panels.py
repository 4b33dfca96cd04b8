"""Building blocks of exwatch's Grafana dashboards: panels, variables, annotations, layout.

Plain dicts in Grafana's dashboard JSON model (schemaVersion 39); ``build.py`` assembles them.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
GRID_WIDTH = 24
# ComponentStatus.rank -> (status name, colour); the encoding of exwatch_component_status.
STATUSES = (
    ("operational", "green"),
    ("under_maintenance", "blue"),
    ("degraded_performance", "yellow"),
    ("partial_outage", "orange"),
    ("major_outage", "red"),
)

Json = dict[str, Any]


def target(expr: str, legend: str = "", *, instant: bool = False) -> Json:
    """One Prometheus query of a panel (its refId is set by ``panel``)."""
    query: Json = {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend or "__auto"}
    if instant:
        query["instant"] = True
        query["range"] = False
    return query


def panel(
    kind: str, title: str, targets: list[Json], size: tuple[int, int] = (12, 8), **extra: Any
) -> Json:
    """A panel of type ``kind``; ``size`` is (width, height) in grid units, placed by ``layout``."""
    for number, query in enumerate(targets):
        query["refId"] = chr(ord("A") + number)
    fields: Json = {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"w": size[0], "h": size[1], "x": 0, "y": 0},
        "targets": targets,
    }
    fields.update(extra)
    return fields


def field_config(unit: str = "short", **defaults: Any) -> Json:
    """The ``fieldConfig`` of a panel with ``unit`` and other defaults."""
    return {"defaults": {"unit": unit, **defaults}, "overrides": []}


def thresholds(*steps: tuple[float | None, str]) -> Json:
    """Absolute thresholds: (from value, colour), the first from None (minus infinity)."""
    return {"mode": "absolute", "steps": [{"value": v, "color": c} for v, c in steps]}


def status_mappings() -> list[Json]:
    """Value mappings 0..4 -> the component status names and colours."""
    options = {
        str(rank): {"text": name, "color": colour, "index": rank}
        for rank, (name, colour) in enumerate(STATUSES)
    }
    return [{"type": "value", "options": options}]


def layout(panels: list[Json]) -> list[Json]:
    """Give each panel an id and a grid position, left to right, wrapping at 24 columns."""
    x = y = row_height = 0
    for number, item in enumerate(panels, start=1):
        grid = item["gridPos"]
        if x + grid["w"] > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        grid["x"], grid["y"] = x, y
        x += grid["w"]
        row_height = max(row_height, grid["h"])
        item["id"] = number
    return panels


def datasource_variable() -> Json:
    """The ``DS_PROMETHEUS`` variable: the provisioned ``prometheus`` datasource by default."""
    return {
        "name": "DS_PROMETHEUS",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {"text": "Prometheus", "value": "prometheus"},
        "hide": 0,
    }


def query_variable(name: str, query: str, *, multi: bool = True) -> Json:
    """A variable listing the values of a label; ``All`` matches any value."""
    return {
        "name": name,
        "label": name.capitalize(),
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "hide": 0,
    }


def custom_variable(name: str, label: str, values: list[str], default: str) -> Json:
    """A variable with a fixed list of ``values``."""
    return {
        "name": name,
        "label": label,
        "type": "custom",
        "query": ",".join(values),
        "current": {"text": default, "value": default},
        "options": [{"text": v, "value": v, "selected": v == default} for v in values],
        "hide": 0,
    }


def incident_annotations() -> Json:
    """Grafana's built-in annotations, plus exwatch's incidents (tag ``exwatch``) on every panel."""
    grafana = {"type": "grafana", "uid": "-- Grafana --"}
    return {
        "list": [
            {
                "builtIn": 1,
                "datasource": grafana,
                "enable": True,
                "hide": True,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            },
            {
                "datasource": grafana,
                "enable": True,
                "iconColor": "red",
                "name": "exwatch incidents",
                "target": {"type": "tags", "tags": ["exwatch"], "matchAny": False, "limit": 100},
            },
        ]
    }


def dashboard(uid: str, title: str, panels: list[Json], variables: list[Json]) -> Json:
    """A whole dashboard: the panels laid out, the datasource variable first."""
    return {
        "uid": uid,
        "title": title,
        "tags": ["exwatch"],
        "timezone": "utc",
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "annotations": incident_annotations(),
        "templating": {"list": [datasource_variable(), *variables]},
        "panels": layout(panels),
    }
