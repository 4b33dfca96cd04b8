"""Expands ``${VAR}`` and ``${VAR:-default}`` in config strings from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    """Return ``value`` with references expanded; unset variables are added to ``problems``."""
    if isinstance(value, str):
        return _expand_text(value, env, path, problems)
    if isinstance(value, list):
        return [expand(item, env, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand(v, env, _join(path, str(k)), problems) for k, v in value.items()}
    return value


def _expand_text(text: str, env: Mapping[str, str], path: str, problems: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path or '<root>'}: environment variable {name} is not set")
        return match.group(0)

    return _REFERENCE.sub(replace, text)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
