"""One SDK tracer provider for the process, recording spans in memory while a test asks for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class WhileAsked(SimpleSpanProcessor):
    """Exports only during a test using ``spans``: later tests in the process pile up nothing."""

    recording = False

    def on_end(self, span: ReadableSpan) -> None:
        """Export ``span`` if a test is recording."""
        if self.recording:
            super().on_end(span)


@pytest.fixture(scope="session")
def processor() -> WhileAsked:
    """The global provider can be set once per process: set it here, once, for every test."""
    recorder = WhileAsked(InMemorySpanExporter())
    provider = TracerProvider()
    provider.add_span_processor(recorder)
    trace.set_tracer_provider(provider)
    return recorder


@pytest.fixture
def spans(processor: WhileAsked) -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter, empty and recording for the length of the test."""
    exporter = processor.span_exporter
    assert isinstance(exporter, InMemorySpanExporter)
    exporter.clear()
    processor.recording = True
    try:
        yield exporter
    finally:
        processor.recording = False
        exporter.clear()
