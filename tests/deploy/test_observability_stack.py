"""Prometheus, Alertmanager and Grafana in docker-compose.yml: targets are compose services,
rule files are mounted, alerts reach exwatch's receiver, and promtool/amtool accept the files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.support import REPO, bind_mounts, container_ports, load_yaml, services


def _mounted_at(service: str) -> dict[str, Path]:
    """Where each of the service's bind mounts appears in its container → the repo path."""
    return {mount.target: mount.source for mount in bind_mounts() if mount.service == service}


def _static_targets(config: dict[str, Any]) -> list[str]:
    return [
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]


def _assert_is_a_service(target: str) -> None:
    host, _, port = target.rpartition(":")
    assert host in services(), f"{target}: {host} is not a compose service"
    assert int(port) in container_ports(host), f"{target}: {host} does not serve {port}"


def test_prometheus_scrapes_exwatch_and_the_simulator_by_service_name() -> None:
    config = load_yaml("deploy/prometheus.yml")
    targets = _static_targets(config)
    for target in targets:
        _assert_is_a_service(target)
    assert {"exwatch:8080", "exchange:8081"} <= set(targets)


def test_prometheus_sends_alerts_to_alertmanager() -> None:
    config = load_yaml("deploy/prometheus.yml")
    targets = [
        target
        for manager in config["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]
    assert targets == ["alertmanager:9093"]
    _assert_is_a_service(targets[0])


def test_prometheus_loads_exwatchs_rules_and_the_exchanges_alerts() -> None:
    mounted = _mounted_at("prometheus")
    rule_files = load_yaml("deploy/prometheus.yml")["rule_files"]
    assert [mounted.get(path) for path in rule_files] == [
        REPO / "dashboards" / "prometheus" / "rules.yml",
        REPO / "deploy" / "prometheus" / "exchange.yml",
    ]


def test_exchange_alert_without_component_is_routed_by_a_matcher() -> None:
    # Alerts carry the scrape job's label; exwatch's matcher must name the job Prometheus uses.
    jobs = {job["job_name"] for job in load_yaml("deploy/prometheus.yml")["scrape_configs"]}
    alerts = {
        rule["alert"]
        for group in load_yaml("deploy/prometheus/exchange.yml")["groups"]
        for rule in group["rules"]
    }
    matchers = load_yaml("deploy/exwatch.yaml")["alertmanager"]["matchers"]
    routed = {(m["labels"]["job"], m["labels"]["alertname"]) for m in matchers}
    assert ("exchange", "WithdrawalQueueBacklog") in routed
    assert {job for job, _ in routed} <= jobs
    assert {alert for _, alert in routed} <= alerts


def test_alertmanager_posts_to_exwatchs_receiver_with_the_admin_token() -> None:
    receivers = load_yaml("deploy/alertmanager.yml")["receivers"]
    (webhook,) = [hook for receiver in receivers for hook in receiver["webhook_configs"]]
    where = urlsplit(webhook["url"])
    assert where.path == "/api/alertmanager"
    _assert_is_a_service(f"{where.hostname}:{where.port}")
    assert webhook["send_resolved"] is True
    # The entrypoint writes EXWATCH_ADMIN_TOKEN to the file Alertmanager reads it from.
    token_file = webhook["http_config"]["authorization"]["credentials_file"]
    script = services()["alertmanager"]["entrypoint"][-1]
    assert f'"$$EXWATCH_ADMIN_TOKEN" > {token_file}' in script
    assert "exec /bin/alertmanager --config.file=/etc/alertmanager/alertmanager.yml" in script


def test_grafana_loads_the_provisioned_dashboards_from_prometheus() -> None:
    mounted = _mounted_at("grafana")
    provisioning = mounted["/etc/grafana/provisioning"]
    providers = [
        provider
        for file in sorted((provisioning / "dashboards").glob("*.y*ml"))
        for provider in yaml.safe_load(file.read_text(encoding="utf-8"))["providers"]
    ]
    assert providers, "no dashboard provider under dashboards/provisioning/dashboards"
    for provider in providers:
        source = mounted.get(provider["options"]["path"])
        assert source is not None, f"{provider['options']['path']} is not mounted"
        assert list(source.glob("*.json")), f"no dashboards in {source}"
    for file in sorted((provisioning / "datasources").glob("*.y*ml")):
        for source in yaml.safe_load(file.read_text(encoding="utf-8"))["datasources"]:
            where = urlsplit(source["url"])
            _assert_is_a_service(f"{where.hostname}:{where.port}")


def test_promtool_accepts_the_prometheus_config(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt install prometheus)")
    # The rule files' paths are the container's: point a copy at the files compose mounts there.
    config = load_yaml("deploy/prometheus.yml")
    mounted = _mounted_at("prometheus")
    config["rule_files"] = [str(mounted[path]) for path in config["rule_files"]]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [promtool, "check", "config", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout


def test_amtool_accepts_the_alertmanager_config() -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.skip("amtool is not installed (Debian: apt install prometheus-alertmanager)")
    result = subprocess.run(
        [amtool, "check-config", str(REPO / "deploy" / "alertmanager.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
