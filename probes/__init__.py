"""Probes: pure checks. A spec goes in, a ProbeResult comes out; no storage, no components.

Each kind is one module and one ``register`` line below.
"""

from probes.conditions import Condition, ConditionSyntaxError, parse_condition
from probes.durations import Duration, format_duration, parse_duration
from probes.http import HttpProbe, HttpSpec
from probes.registry import Probe, ProbeKind, Registry
from probes.result import ConditionOutcome, ProbeResult
from probes.spec import ProbeSpec

REGISTRY = Registry()
REGISTRY.register("http", HttpSpec, HttpProbe)

__all__ = [
    "REGISTRY",
    "Condition",
    "ConditionOutcome",
    "ConditionSyntaxError",
    "Duration",
    "HttpProbe",
    "HttpSpec",
    "Probe",
    "ProbeKind",
    "ProbeResult",
    "ProbeSpec",
    "Registry",
    "format_duration",
    "parse_condition",
    "parse_duration",
]
