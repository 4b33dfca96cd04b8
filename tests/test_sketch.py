"""The latency sketch: quantiles within 2 %, merging equals adding, compact storage."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from monitor.sketch import LatencySketch

latencies = st.lists(
    st.floats(min_value=0.01, max_value=60_000, allow_nan=False), min_size=1, max_size=200
)


@given(latencies, st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))
def test_quantiles_are_within_the_accuracy(values: list[float], q: float) -> None:
    sketch = LatencySketch()
    for value in values:
        sketch.add(value)
    exact = sorted(values)[int(q * (len(values) - 1))]
    estimate = sketch.quantile(q)
    assert estimate is not None
    assert abs(estimate - exact) <= 0.021 * exact


@given(latencies, latencies)
def test_merging_equals_adding_everything(first: list[float], second: list[float]) -> None:
    a, b, both = LatencySketch(), LatencySketch(), LatencySketch()
    for value in first:
        a.add(value)
        both.add(value)
    for value in second:
        b.add(value)
        both.add(value)
    a.merge(b)
    assert a.buckets == both.buckets
    assert LatencySketch.from_json(a.to_json()).buckets == both.buckets


def test_a_minute_of_samples_stores_small() -> None:
    sketch = LatencySketch()
    for value in (12.0, 13.1, 12.4, 250.0, 12.9, 13.0):
        sketch.add(value)
    assert len(json.dumps(sketch.to_json())) < 60
    assert LatencySketch().quantile(0.5) is None
