"""docker-compose.yml: every service of issue #8, no port collisions, every mounted file there,
and exwatch's config in deploy/ loading with exwatch's own loader."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from monitor.config import load_config
from monitor.demo.runner import X_CREDENTIALS
from tests.deploy.support import (
    ISSUE_SERVICES,
    REPO,
    Mount,
    bind_mounts,
    container_ports,
    environment,
    interpolate,
    published,
    services,
)

DEPLOY_CONFIG = REPO / "deploy" / "exwatch.yaml"


def _compose_plugin_problem() -> str | None:
    """Why `docker compose` cannot run here, or None when it can."""
    if shutil.which("docker") is None:
        return "docker is not installed"
    version = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    if version.returncode != 0:
        return f"docker has no compose plugin: {version.stderr.strip() or version.stdout.strip()}"
    return None


def test_docker_compose_config_validates() -> None:
    # Skipped wherever docker with its compose plugin is missing, CI included: the CI machine
    # may have no docker. The checks below need no docker and always run.
    problem = _compose_plugin_problem()
    if problem:
        pytest.skip(problem)
    result = subprocess.run(
        ["docker", "compose", "config", "-q"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_every_service_of_the_issue_is_there() -> None:
    assert set(ISSUE_SERVICES) <= set(services())


def test_published_ports_do_not_collide_and_stay_on_loopback() -> None:
    ports = [
        published(str(spec)) for service in services().values() for spec in service.get("ports", [])
    ]
    taken = Counter((port.host_port, port.protocol) for port in ports)
    assert [key for key, count in taken.items() if count > 1] == []
    # The admin token has a well-known default: nothing may listen beyond this machine.
    assert {port.host_ip for port in ports} == {"127.0.0.1"}


@pytest.mark.parametrize(
    "mount", bind_mounts(), ids=lambda mount: f"{mount.service}:{mount.target}"
)
def test_every_mounted_path_exists_in_the_repo(mount: Mount) -> None:
    source = mount.source
    # A missing source would make docker create an empty directory in its place.
    assert source.exists(), f"{source.relative_to(REPO)} is mounted but missing"
    assert source.is_relative_to(REPO)


def test_exwatch_waits_for_a_healthy_postgres_and_checks_its_own_health() -> None:
    exwatch = services()["exwatch"]
    assert exwatch["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in services()["postgres"]["healthcheck"]["test"]
    assert any("/healthz" in part for part in exwatch["healthcheck"]["test"])


def test_exwatch_uses_the_postgres_service() -> None:
    url = make_url(environment("exwatch")["EXWATCH_DATABASE_URL"])
    postgres = environment("postgres")
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port or 5432) == ("postgres", 5432)
    assert (url.username, url.password, url.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )


def test_admin_token_has_a_local_default_and_reaches_alertmanager() -> None:
    token = environment("exwatch")["EXWATCH_ADMIN_TOKEN"]
    assert token
    assert environment("alertmanager")["EXWATCH_ADMIN_TOKEN"] == token
    assert (
        interpolate(
            str(services()["exwatch"]["environment"]["EXWATCH_ADMIN_TOKEN"]),
            {"EXWATCH_ADMIN_TOKEN": "from-the-host"},
        )
        == "from-the-host"
    )


def test_deploy_config_loads_with_exwatchs_loader() -> None:
    config = load_config(DEPLOY_CONFIG, env=environment("exwatch"))
    example = load_config(REPO / "examples" / "exchange.yaml", env={})
    # The compose config is the example's, pointed at other hosts: same components and checks.
    assert [c.id for c in config.components] == [c.id for c in example.components]
    assert [c.id for c in config.checks] == [c.id for c in example.checks]


def test_deploy_config_reaches_the_exchange_and_mailpit_by_service_name() -> None:
    config = load_config(DEPLOY_CONFIG, env=environment("exwatch"))
    exchange_ports = container_ports("exchange")
    for check in config.checks:
        where = urlsplit(str(check.url))  # type: ignore[attr-defined]
        assert (where.hostname, where.port in exchange_ports) == ("exchange", True), check.id
    smtp = config.notifications.email.smtp  # type: ignore[union-attr]
    assert smtp.host == "mailpit"
    assert smtp.port in container_ports("mailpit")


def test_x_credentials_the_config_names_are_set() -> None:
    config = load_config(DEPLOY_CONFIG, env=environment("exwatch"))
    env = environment("exwatch")
    for account in config.notifications.x.accounts:  # type: ignore[union-attr]
        prefix = account.credentials_env_prefix
        assert all(env.get(f"{prefix}_{name}") for name in X_CREDENTIALS), prefix


def test_the_exchange_runs_the_simulator_on_its_published_port() -> None:
    command = services()["exchange"]["command"]
    assert command[0] == "simulate"
    assert int(command[command.index("--port") + 1]) in container_ports("exchange")


@given(
    ip=st.sampled_from(["127.0.0.1", "0.0.0.0", ""]),
    host=st.integers(1, 65535),
    container=st.integers(1, 65535),
    protocol=st.sampled_from(["", "tcp", "udp"]),
)
def test_port_parser_reads_back_what_it_is_given(
    ip: str, host: int, container: int, protocol: str
) -> None:
    spec = f"{ip + ':' if ip else ''}{host}:{container}{'/' + protocol if protocol else ''}"
    port = published(spec)
    assert (port.host_ip, port.host_port, port.container_port, port.protocol) == (
        ip or "0.0.0.0",
        host,
        container,
        protocol or "tcp",
    )


def test_readme_lists_every_service_and_its_ports() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running the full stack (docker compose)\n", 1)[1].split("\n## ")[0]
    for name, service in services().items():
        assert f"`{name}`" in section, name
        for spec in service.get("ports", []):
            assert str(published(str(spec)).host_port) in section, (name, spec)
