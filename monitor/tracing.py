"""OpenTelemetry traces: exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Without the variable nothing is installed: the API's no-op tracer makes every span free.
Modules take their tracer with ``trace.get_tracer(__name__)``; it follows the global provider.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

from probes import ProbeResult

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME = "exwatch"
# Scrapes and probes of exwatch itself would drown the requests worth a trace.
UNTRACED_URLS = "metrics,healthz"

_installed: list[TracerProvider] = []


def build_provider(env: Mapping[str, str]) -> TracerProvider | None:
    """Return a provider exporting over OTLP/HTTP if ``env`` names an endpoint, else None."""
    if not env.get(ENDPOINT_VARIABLE, "").strip():
        return None
    resource = Resource.create({"service.name": SERVICE_NAME, "service.version": _version()})
    provider = TracerProvider(resource=resource)
    # The exporter reads the endpoint, headers and timeout from the OTEL_* variables itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def setup_tracing(env: Mapping[str, str]) -> TracerProvider | None:
    """Install the global provider if ``env`` asks for traces; return it, or None (off)."""
    provider = build_provider(env)
    if provider is not None:
        trace.set_tracer_provider(provider)
        _installed.append(provider)
    return provider


def tracing_on() -> bool:
    """Whether ``setup_tracing`` installed a provider in this process."""
    return bool(_installed)


def provider_installed() -> bool:
    """Whether spans go anywhere: a real provider is installed (by ``setup_tracing`` or a host).

    Hot paths ask before making a span: even the API's no-op span costs microseconds.
    """
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def tracer(name: str) -> trace.Tracer:
    """Return the tracer of module ``name`` (a no-op one unless tracing is on)."""
    return trace.get_tracer(name)


def instrument(app: FastAPI) -> None:
    """Trace the app's HTTP requests (except metrics and health), only when tracing is on."""
    if tracing_on():
        # One span per request: the per-message send/receive spans only add volume.
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
        )


def note_probe(span: Span, result: ProbeResult) -> None:
    """Record a probe's outcome on its span: ok, duration, error, and one event per phase."""
    span.set_attribute("exwatch.ok", result.ok)
    span.set_attribute("exwatch.duration_s", result.duration_s)
    for phase, seconds in result.phases.items():
        span.add_event(
            f"exwatch.phase.{phase}", {"exwatch.phase": phase, "exwatch.seconds": seconds}
        )
    if result.error:
        span.set_status(Status(StatusCode.ERROR, result.error))


def _version() -> str:
    try:
        return importlib.metadata.version(SERVICE_NAME)
    except importlib.metadata.PackageNotFoundError:  # running from a bare checkout
        return "unknown"
