"""rules.yml: promtool accepts it, its unit tests pass, and every alert is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboards.support import RULES, RULES_TEST, promtool, rule_entries

ALERTS = {
    "ExwatchDown",
    "ExwatchSchedulerStalled",
    "ExwatchSchedulerLagging",
    "ExwatchEventLoopLagging",
    "ExwatchOutboxBackingUp",
    "ExwatchOutboxStuck",
    "ExwatchDeadLetters",
    "ExwatchDeliveriesFailing",
    "ExwatchNoEngineLeader",
    "ExwatchSeveralEngineLeaders",
    "ExwatchEngineInboxBackingUp",
}


def test_promtool_check_rules_passes() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    result = promtool("test", "rules", str(RULES_TEST))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_health_alerts_are_all_there() -> None:
    assert {rule["alert"] for rule in rule_entries() if "alert" in rule} == ALERTS


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_each_alert_has_a_severity_summary_and_description(name: str) -> None:
    (rule,) = [rule for rule in rule_entries() if rule.get("alert") == name]
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"].strip()
    assert rule["annotations"]["description"].strip()


def test_availability_is_recorded_per_component_for_5m_1h_and_30d() -> None:
    records = {rule["record"]: rule["expr"] for rule in rule_entries() if "record" in rule}
    for window in ("5m", "1h", "30d"):
        expr = records[f"exwatch:probe_success:ratio_rate{window}"]
        assert "by (component)" in expr
        assert f"[{window}]" in expr
    assert "exwatch:probe_error_budget_burn:rate1h" in records


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    # The check above could pass vacuously if promtool accepted anything.
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - record: a:b\n        expr: sum(\n")
    result = promtool("check", "rules", str(broken))
    assert result.returncode != 0
