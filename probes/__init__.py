"""Probes: pure checks. A spec goes in, a ProbeResult comes out; no storage, no components.

Each kind is one module and one ``register`` line below.
"""

from probes.conditions import Condition, ConditionSyntaxError, parse_condition
from probes.dns import DnsProbe, DnsSpec
from probes.durations import Duration, format_duration, parse_duration
from probes.heartbeat import HeartbeatProbe, HeartbeatSpec
from probes.http import HttpProbe, HttpSpec
from probes.jsonrpc import JsonRpcHeightProbe, JsonRpcHeightSpec
from probes.prometheus_scrape import PrometheusScrapeProbe, PrometheusScrapeSpec
from probes.promql import PromqlProbe, PromqlSpec
from probes.registry import Probe, ProbeKind, Registry
from probes.result import ConditionOutcome, ProbeResult
from probes.spec import ProbeSpec
from probes.tcp import TcpProbe, TcpSpec
from probes.tls import TlsProbe, TlsSpec
from probes.websocket import WebsocketProbe, WebsocketSpec

REGISTRY = Registry()
REGISTRY.register("http", HttpSpec, HttpProbe)
REGISTRY.register("tcp", TcpSpec, TcpProbe)
REGISTRY.register("tls", TlsSpec, TlsProbe)
REGISTRY.register("dns", DnsSpec, DnsProbe)
REGISTRY.register("websocket", WebsocketSpec, WebsocketProbe)
REGISTRY.register("jsonrpc_height", JsonRpcHeightSpec, JsonRpcHeightProbe)
REGISTRY.register("prometheus_scrape", PrometheusScrapeSpec, PrometheusScrapeProbe)
REGISTRY.register("promql", PromqlSpec, PromqlProbe)
REGISTRY.register("heartbeat", HeartbeatSpec, HeartbeatProbe)

__all__ = [
    "REGISTRY",
    "Condition",
    "ConditionOutcome",
    "ConditionSyntaxError",
    "DnsProbe",
    "DnsSpec",
    "Duration",
    "HeartbeatProbe",
    "HeartbeatSpec",
    "HttpProbe",
    "HttpSpec",
    "JsonRpcHeightProbe",
    "JsonRpcHeightSpec",
    "Probe",
    "ProbeKind",
    "ProbeResult",
    "ProbeSpec",
    "PrometheusScrapeProbe",
    "PrometheusScrapeSpec",
    "PromqlProbe",
    "PromqlSpec",
    "Registry",
    "TcpProbe",
    "TcpSpec",
    "TlsProbe",
    "TlsSpec",
    "WebsocketProbe",
    "WebsocketSpec",
    "format_duration",
    "parse_condition",
    "parse_duration",
]
