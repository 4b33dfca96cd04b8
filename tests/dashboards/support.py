"""What the dashboard tests share: the dashboards, their expressions, promtool and the rules."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2] / "dashboards"
GRAFANA = ROOT / "grafana"
RULES = ROOT / "prometheus" / "rules.yml"
RULES_TEST = ROOT / "prometheus" / "rules_test.yml"
PROMTOOL = Path("/usr/bin/promtool")
DASHBOARDS = ("exchange-overview.json", "incidents.json", "notifications.json", "exwatch.json")
# Plausible values for Grafana's variables, so that each expression is plain PromQL.
VARIABLES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "DS_PROMETHEUS": "prometheus",
    "slo": "99.9",
    "component": ".*",
    "region": ".*",
    "severity": ".*",
    "channel": ".*",
    "job": "exwatch",
}
VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Query:
    """One panel target: where it is and its expression."""

    dashboard: str
    panel: str
    ref_id: str
    expr: str

    @property
    def where(self) -> str:
        """``dashboard / panel / refId``, for failure messages."""
        return f"{self.dashboard} / {self.panel!r} / {self.ref_id}"


def load(name: str) -> dict[str, Any]:
    """The committed dashboard ``name``."""
    document: dict[str, Any] = json.loads((GRAFANA / name).read_text(encoding="utf-8"))
    return document


def queries() -> Iterator[Query]:
    """Every target of every panel of every dashboard."""
    for name in DASHBOARDS:
        for panel in load(name)["panels"]:
            for query in panel["targets"]:
                yield Query(name, panel["title"], query["refId"], query["expr"])


def substitute(expr: str) -> str:
    """``expr`` with each Grafana variable replaced by a plausible value (KeyError if unknown)."""
    return VARIABLE.sub(lambda m: VARIABLES[m.group(1) or m.group(2)], expr)


def rules() -> dict[str, Any]:
    """rules.yml, parsed."""
    document: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return document


def rule_entries() -> list[dict[str, Any]]:
    """Every rule of every group of rules.yml."""
    return [rule for group in rules()["groups"] for rule in group["rules"]]


def recorded_names() -> set[str]:
    """The metric names the recording rules of rules.yml create."""
    return {rule["record"] for rule in rule_entries() if "record" in rule}


def need_promtool() -> None:
    """Skip without promtool; under CI (which installs it) its absence is a failure."""
    if PROMTOOL.exists():
        return
    reason = f"{PROMTOOL} is not installed (apt-get install prometheus)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool with ``args`` (at most 60 s); output in ``stdout`` and ``stderr``."""
    need_promtool()
    return subprocess.run(
        [str(PROMTOOL), *args], capture_output=True, text=True, timeout=60, check=False
    )
