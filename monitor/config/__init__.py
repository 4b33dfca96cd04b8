"""Config: one YAML file parsed into pydantic models, with errors as ``path: message`` lines."""

from monitor.config.errors import ConfigError
from monitor.config.load import load_config, parse_config
from monitor.config.models import (
    CheckConfig,
    Component,
    ConfigBase,
    Group,
    Names,
    SeverityPolicy,
    Site,
)
from monitor.config.schema import config_model, json_schema

Config = ConfigBase

__all__ = [
    "CheckConfig",
    "Component",
    "Config",
    "ConfigBase",
    "ConfigError",
    "Group",
    "Names",
    "SeverityPolicy",
    "Site",
    "config_model",
    "json_schema",
    "load_config",
    "parse_config",
]
