"""The dashboards are valid Grafana JSON, equal the build script's output, and are provisioned."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import pytest
import yaml

from dashboards.build import BUILDERS, build_all
from dashboards.panels import STATUSES, layout
from tests.dashboards.support import DASHBOARDS, GRAFANA, ROOT, VARIABLE, load

PROVISIONING = ROOT / "provisioning"


def test_the_committed_json_is_the_build_scripts_output() -> None:
    built = build_all()
    assert sorted(built) == sorted(DASHBOARDS) == sorted(p.name for p in GRAFANA.glob("*.json"))
    for name, text in built.items():
        assert (GRAFANA / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python -m dashboards.build"
        )


def test_the_dashboard_uids_are_unique() -> None:
    uids = [load(name)["uid"] for name in DASHBOARDS]
    assert len(set(uids)) == len(uids) == len(BUILDERS)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_fields(name: str) -> None:
    dashboard = load(name)
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard["uid"])
    assert dashboard["title"].startswith("exwatch · ")
    assert dashboard["schemaVersion"] >= 38
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["current"]["value"] == "prometheus"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panels_have_unique_ids_and_fit_the_grid_without_overlapping(name: str) -> None:
    panels = load(name)["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids)
    for panel in panels:
        grid = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= set(grid)
        assert grid["x"] >= 0 and grid["y"] >= 0 and grid["w"] > 0 and grid["h"] > 0
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    for a, b in combinations(panels, 2):
        assert not _overlap(a["gridPos"], b["gridPos"]), (a["title"], b["title"])


def _overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    """Whether two grid rectangles share any cell."""
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_the_overlap_check_can_fail() -> None:
    panels = layout([{"gridPos": {"w": 16, "h": 4}}, {"gridPos": {"w": 16, "h": 4}}])
    assert not _overlap(panels[0]["gridPos"], panels[1]["gridPos"])
    assert _overlap({"x": 0, "y": 0, "w": 2, "h": 2}, {"x": 1, "y": 1, "w": 2, "h": 2})


@pytest.mark.parametrize("name", DASHBOARDS)
def test_targets_have_a_ref_id_an_expr_and_the_prometheus_datasource(name: str) -> None:
    for panel in load(name)["panels"]:
        assert panel["type"] in {"stat", "timeseries", "state-timeline", "bargauge", "piechart"}
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        targets = panel["targets"]
        assert targets, panel["title"]
        ref_ids = [t["refId"] for t in targets]
        assert len(set(ref_ids)) == len(ref_ids)
        for target in targets:
            assert target["expr"].strip()
            assert target["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_variable_an_expression_uses_is_defined(name: str) -> None:
    dashboard = load(name)
    defined = {v["name"] for v in dashboard["templating"]["list"]}
    builtin = {"__rate_interval", "__interval", "__range"}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for match in VARIABLE.finditer(target["expr"]):
                assert (match.group(1) or match.group(2)) in defined | builtin, panel["title"]


@pytest.mark.parametrize("name", DASHBOARDS)
def test_incident_annotations_come_from_grafana_tagged_exwatch(name: str) -> None:
    annotations = load(name)["annotations"]["list"]
    (incidents,) = [a for a in annotations if a.get("target", {}).get("tags") == ["exwatch"]]
    assert incidents["enable"] is True
    assert incidents["datasource"]["type"] == "grafana"
    assert incidents["target"]["type"] == "tags"


def test_the_status_panels_map_0_to_4_to_the_status_names() -> None:
    status_panels = [
        panel
        for panel in load("exchange-overview.json")["panels"]
        if "exwatch_component_status" in panel["targets"][0]["expr"]
    ]
    assert {panel["type"] for panel in status_panels} == {"stat", "state-timeline"}
    for panel in status_panels:
        (mapping,) = panel["fieldConfig"]["defaults"]["mappings"]
        names = {int(value): option["text"] for value, option in mapping["options"].items()}
        assert names == {0: "operational", 1: "under_maintenance", 2: "degraded_performance",
                         3: "partial_outage", 4: "major_outage"}  # fmt: skip
    assert [colour for _, colour in STATUSES] == ["green", "blue", "yellow", "orange", "red"]


def test_the_slo_variable_defaults_to_99_9_percent() -> None:
    variables = {v["name"]: v for v in load("exchange-overview.json")["templating"]["list"]}
    assert variables["slo"]["current"]["value"] == "99.9"


def _yaml(path: str) -> Any:
    """A provisioning file, parsed."""
    return yaml.safe_load((PROVISIONING / path).read_text(encoding="utf-8"))


def test_the_datasource_is_provisioned_with_uid_prometheus() -> None:
    (source,) = _yaml("datasources/prometheus.yml")["datasources"]
    assert source["uid"] == "prometheus"
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"


def test_the_dashboard_provider_reads_the_path_the_readme_documents() -> None:
    (provider,) = _yaml("dashboards/exwatch.yml")["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert path in (ROOT / "README.md").read_text(encoding="utf-8")
