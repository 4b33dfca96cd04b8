"""The Dockerfile: non-root, a /healthz HEALTHCHECK without curl, and a command exwatch has."""

from __future__ import annotations

import fnmatch
import json

import typer.main

from monitor.cli import app
from tests.deploy.support import REPO, services

DOCKERFILE = REPO / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    joined = text.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    pairs = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def _options(command: str) -> set[str]:
    group = typer.main.get_command(app)
    params = group.commands[command].params  # type: ignore[attr-defined]
    return {option for param in params for option in param.opts}


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [args for name, args in _final_stage() if name == "USER"]
    assert users, "no USER in the final stage"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_image_checks_healthz_with_python() -> None:
    (check,) = [args for name, args in _final_stage() if name == "HEALTHCHECK"]
    assert "/healthz" in check
    assert "curl" not in check  # python:*-slim has no curl
    assert '"python", "-c"' in check


def test_the_image_is_python_311_slim_and_exposes_8080() -> None:
    bases = [args.split()[0] for name, args in _instructions() if name == "FROM"]
    assert all(base.startswith("python:3.11") and "slim" in base for base in bases)
    assert ("EXPOSE", "8080") in _final_stage()


def test_the_default_command_is_exwatch_run_with_options_it_has() -> None:
    stage = dict(_final_stage())
    entrypoint, command = json.loads(stage["ENTRYPOINT"]), json.loads(stage["CMD"])
    assert entrypoint == ["exwatch"]
    assert command[:1] == ["run"]
    assert command[command.index("--config") + 1] == "/etc/exwatch/exwatch.yaml"
    assert command[command.index("--port") + 1] == "8080"
    assert {arg for arg in command if arg.startswith("--")} <= _options("run")


def test_the_exchange_service_runs_a_command_exwatch_has() -> None:
    command = services()["exchange"]["command"]
    assert {arg for arg in command if arg.startswith("--")} <= _options(command[0])


def test_the_image_installs_without_dev_extras() -> None:
    installs = [args for name, args in _instructions() if name == "RUN" and "pip install" in args]
    assert installs
    assert not any("[dev]" in args for args in installs)


def test_what_the_image_copies_exists_and_is_not_dockerignored() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".venv", ".git", "tests/artifacts", "screenshots", "**/*.db"} <= set(ignored)
    copies = [args.split() for name, args in _instructions() if name == "COPY"]
    sources = [path for args in copies if not args[0].startswith("--") for path in args[:-1]]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
