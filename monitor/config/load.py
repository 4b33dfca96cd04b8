"""Reading a config file: YAML, environment references, the models, then cross-references."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.config.envvars import expand
from monitor.config.errors import ConfigError, validation_problems
from monitor.config.models import ConfigBase
from monitor.config.references import reference_problems
from monitor.config.schema import config_model
from probes import REGISTRY, Registry


def load_config(
    path: str | Path, env: Mapping[str, str] | None = None, registry: Registry = REGISTRY
) -> ConfigBase:
    """Read and validate the config at ``path``; raises ConfigError listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, [f"<file>: cannot read: {error.strerror or error}"]) from None
    return parse_config(text, source=source, env=env, registry=registry)


def parse_config(
    text: str,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    registry: Registry = REGISTRY,
) -> ConfigBase:
    """Validate config ``text``; raises ConfigError listing every problem."""
    raw = _parse_yaml(text, source)
    problems: list[str] = []
    try:
        expanded = expand(raw, os.environ if env is None else env, "", problems)
    except RecursionError:
        raise ConfigError(source, ["<root>: a YAML anchor refers to itself"]) from None
    if problems:
        raise ConfigError(source, problems)
    try:
        config = config_model(registry).model_validate(expanded)
    except ValidationError as error:
        raise ConfigError(source, validation_problems(error, registry.names())) from None
    problems = reference_problems(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "<yaml>"
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(source, [f"{where}: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            source, ["<root>: the config must be a mapping with site, components, checks"]
        )
    return raw
