"""Reading docker-compose.yml and the deploy/ files the way compose and the images see them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
# The services issue #8 names, by the names the compose file gives them.
ISSUE_SERVICES = (
    "exwatch",
    "postgres",
    "exchange",
    "prometheus",
    "alertmanager",
    "grafana",
    "mailpit",
)

_PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class Published:
    """One published port: where it listens on the host and which container port it serves."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: str


@dataclass(frozen=True)
class Mount:
    """One bind mount: a path in the repo and where the container sees it."""

    service: str
    source: Path
    target: str


@cache
def compose() -> dict[str, Any]:
    """The compose file as YAML (anchors resolved, `${...}` left for `interpolate`)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def services() -> dict[str, Any]:
    """The compose file's services by name."""
    found: dict[str, Any] = compose()["services"]
    return found


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Replace `${NAME}` / `${NAME:-default}` as compose does, from ``env`` (default: unset)."""
    given = env or {}

    def one(match: re.Match[str]) -> str:
        return given.get(match["name"]) or match["default"] or ""

    return _PLACEHOLDER.sub(one, value)


def environment(service: str) -> dict[str, str]:
    """The service's environment after compose's interpolation with nothing set on the host."""
    raw = services()[service].get("environment") or {}
    return {name: interpolate(str(value)) for name, value in raw.items()}


def published(spec: str) -> Published:
    """Parse a short-syntax port: `[IP:]HOST:CONTAINER[/PROTO]` (no ranges: compose allows
    them, this stack does not use them)."""
    body, _, protocol = spec.partition("/")
    parts = body.rsplit(":", 2)
    if len(parts) == 2:
        parts = ["0.0.0.0", *parts]
    if len(parts) != 3:
        raise ValueError(f"{spec!r}: expected [IP:]HOST:CONTAINER[/PROTO]")
    host_ip, host_port, container_port = parts
    return Published(host_ip, int(host_port), int(container_port), protocol or "tcp")


def bind_mounts() -> list[Mount]:
    """Every `./path:/target[:mode]` volume of every service (named volumes left out)."""
    mounts = []
    for name, service in services().items():
        for volume in service.get("volumes") or []:
            source, target, *_ = str(volume).split(":")
            if source.startswith("."):
                mounts.append(Mount(name, (REPO / source).resolve(), target))
    return mounts


def container_ports(service: str) -> set[int]:
    """The container ports a service publishes (what other services reach it on)."""
    return {published(str(spec)).container_port for spec in services()[service].get("ports", [])}


def load_yaml(relative: str) -> Any:
    """A YAML file of the repo."""
    return yaml.safe_load((REPO / relative).read_text(encoding="utf-8"))


def interpolate_all(document: Any, env: dict[str, str] | None = None) -> Any:
    """A copy of ``document`` with `interpolate` applied to every string value (not keys,
    as compose does)."""
    if isinstance(document, str):
        return interpolate(document, env)
    if isinstance(document, dict):
        return {key: interpolate_all(value, env) for key, value in document.items()}
    if isinstance(document, list):
        return [interpolate_all(item, env) for item in document]
    return document
