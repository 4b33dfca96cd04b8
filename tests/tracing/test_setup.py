"""Tracing is off without OTEL_EXPORTER_OTLP_ENDPOINT, and exports as exwatch with it."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.tracing import build_provider, instrument, setup_tracing, tracing_on


def test_without_an_endpoint_nothing_is_installed() -> None:
    before = trace.get_tracer_provider()
    assert setup_tracing({}) is None
    assert setup_tracing({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}) is None
    assert trace.get_tracer_provider() is before
    assert not tracing_on()


def test_without_tracing_the_app_is_not_instrumented() -> None:
    app = FastAPI()
    instrument(app)
    assert app.user_middleware == []


def test_with_an_endpoint_the_provider_names_the_service() -> None:
    provider = build_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "exwatch"
        assert provider.resource.attributes["service.version"]
    finally:
        provider.shutdown()


def test_run_refuses_an_unknown_log_format() -> None:
    result = CliRunner().invoke(cli, ["run", "-c", "missing.yaml", "--log-format", "xml"])
    assert result.exit_code == 2
    assert "--log-format: log format must be one of plain, json, not 'xml'" in result.output
