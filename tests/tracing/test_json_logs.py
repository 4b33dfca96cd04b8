"""JSON logs: one valid object per line, with the current span's trace and span ids."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from monitor.logging_json import JsonFormatter, use_log_format


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("monitor.engine", logging.WARNING, __file__, 1, message, args, None)


def test_inside_a_span_the_line_carries_its_trace_and_span_ids(
    spans: InMemorySpanExporter,
) -> None:
    with trace.get_tracer(__name__).start_as_current_span("work") as span:
        line = JsonFormatter().format(_record("check %s failed", "api"))
    entry = json.loads(line)
    context = span.get_span_context()
    assert entry["trace_id"] == f"{context.trace_id:032x}"
    assert entry["span_id"] == f"{context.span_id:016x}"
    assert entry["message"] == "check api failed"
    assert (entry["level"], entry["logger"]) == ("WARNING", "monitor.engine")
    assert entry["time"].endswith("+00:00")


def test_outside_a_span_the_line_has_no_ids() -> None:
    entry = json.loads(JsonFormatter().format(_record("started")))
    assert set(entry) == {"time", "level", "logger", "message"}


def test_an_exception_is_kept_in_the_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["error"]


@given(st.text())
def test_any_message_is_one_line_of_valid_json(message: str) -> None:
    line = JsonFormatter().format(_record(message))
    assert "\n" not in line
    assert json.loads(line)["message"] == message


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="log format must be one of plain, json, not 'xml'"):
        use_log_format("xml")


def test_json_format_switches_the_root_handlers() -> None:
    handler = logging.StreamHandler()
    root = logging.getLogger()
    formatters = [(h, h.formatter) for h in root.handlers]  # pytest's own: put back after
    root.addHandler(handler)
    try:
        use_log_format("json")
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        root.removeHandler(handler)
        for other, formatter in formatters:
            other.setFormatter(formatter)
