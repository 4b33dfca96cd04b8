"""Builds the config model whose ``checks`` accept exactly the registered probe kinds."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Union, cast

from pydantic import Field, create_model

from monitor.config.models import CheckConfig, ConfigBase
from probes import REGISTRY, ProbeKind, Registry


@functools.cache
def config_model(registry: Registry = REGISTRY) -> type[ConfigBase]:
    """Return the Config model for ``registry``'s kinds (cached per registry)."""
    check_models = tuple(_check_model(kind) for kind in registry.kinds())
    check_type: Any = check_models[0]
    if len(check_models) > 1:
        check_type = Annotated[Union[check_models], Field(discriminator="kind")]  # noqa: UP007
    return create_model(
        "Config",
        __base__=ConfigBase,
        checks=(tuple[check_type, ...], ()),
    )


def check_union(registry: Registry = REGISTRY) -> Any:
    """Return the type of one check: a union of every registered kind, told apart by ``kind``."""
    return config_model(registry).model_fields["checks"].annotation.__args__[0]  # type: ignore[union-attr]


def json_schema(registry: Registry = REGISTRY) -> dict[str, Any]:
    """Return the config's JSON Schema, for editors' YAML completion."""
    schema = config_model(registry).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "exwatch config"
    return schema


def _check_model(kind: ProbeKind) -> type[CheckConfig]:
    name = "".join(part.title() for part in kind.name.split("_")) + "Check"
    # The kind's spec comes first so its ``kind: Literal[...]`` wins over ProbeSpec's ``str``.
    bases: Any = (kind.spec, CheckConfig)
    return cast(type[CheckConfig], create_model(name, __base__=bases))
