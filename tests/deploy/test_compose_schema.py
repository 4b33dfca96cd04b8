"""docker-compose.yml against the Compose Specification's JSON schema: what `docker compose
config` checks first, without docker (the schema is vendored, see COMPOSE_SPEC_SOURCE.md)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.deploy.support import compose, interpolate_all

SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> jsonschema_rs.Validator:
    # The draft comes from the schema's `$schema`. Formats stay annotations: the schema's only
    # format, "expose", is compose's own and no validator knows it. Offline: the schema has no
    # remote $ref, so any fetch would be a bug.
    return jsonschema_rs.validator_for(_schema(), validate_formats=False, offline=True)


def _pointer(path: list[str | int]) -> str:
    """The JSON pointer of an instance path (RFC 6901 escapes)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _deepest(error: jsonschema_rs.ValidationError) -> list[jsonschema_rs.ValidationError]:
    """For a failed oneOf/anyOf, the branch errors deepest in the document (where the
    mistake is, as python-jsonschema's best_match does); otherwise the error itself."""
    context: list[list[jsonschema_rs.ValidationError]] = getattr(error.kind, "context", [])
    leaves = [leaf for branch in context for inner in branch for leaf in _deepest(inner)]
    if not leaves:
        return [error]
    depth = max(len(leaf.instance_path) for leaf in leaves)
    return [leaf for leaf in leaves if len(leaf.instance_path) == depth]


def schema_errors(document: Any) -> list[str]:
    """Every schema violation of ``document`` as `/json/pointer: message`."""
    return [
        f"{_pointer(leaf.instance_path)}: {leaf.message}"
        for error in _validator().iter_errors(document)
        for leaf in _deepest(error)
    ]


def _as_compose_reads_it() -> Any:
    """docker-compose.yml after compose's interpolation with nothing set on the host."""
    return interpolate_all(compose())


def _mutated(path: tuple[str | int, ...], value: Any) -> Any:
    """The interpolated compose file with ``value`` set at ``path``."""
    document = copy.deepcopy(_as_compose_reads_it())
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return document


def test_the_schema_is_checked_with_the_draft_it_declares() -> None:
    assert _schema()["$schema"] == "https://json-schema.org/draft/2019-09/schema#"
    assert isinstance(_validator(), jsonschema_rs.Draft201909Validator)


def test_interpolation_leaves_no_placeholder() -> None:
    assert "${" not in json.dumps(_as_compose_reads_it())


def test_compose_file_matches_the_compose_spec() -> None:
    assert schema_errors(_as_compose_reads_it()) == []


@pytest.mark.parametrize(
    ("path", "value", "pointer", "detail"),
    [
        pytest.param(
            ("services", "exwatch", "restart_policy"),
            "always",
            "/services/exwatch",
            "'restart_policy' was unexpected",
            id="service-unknown-key",
        ),
        pytest.param(
            ("services", "postgres", "healthcheck", "interval"),
            5,
            "/services/postgres/healthcheck/interval",
            'is not of type "string"',
            id="healthcheck-wrong-type",
        ),
        pytest.param(
            ("services", "mailpit", "ports", 0),
            {"host": "127.0.0.1", "published": 8025, "target": 8025},
            "/services/mailpit/ports/0",
            "'host' was unexpected",
            id="port-wrong-shape",
        ),
        pytest.param(
            ("services", "exwatch", "depends_on", "postgres", "condition"),
            "service_ready",
            "/services/exwatch/depends_on/postgres/condition",
            '"service_ready" is not one of',
            id="depends-on-unknown-condition",
        ),
    ],
)
def test_a_broken_compose_file_is_rejected_at_its_path(
    path: tuple[str | int, ...], value: Any, pointer: str, detail: str
) -> None:
    errors = schema_errors(_mutated(path, value))
    at_pointer = [error for error in errors if error.startswith(f"{pointer}: ")]
    assert at_pointer, errors
    assert any(detail in error for error in at_pointer), errors
