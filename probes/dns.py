"""The ``dns`` probe: one lookup with dnspython's async resolver, then rcode and answers.

An answer such as NXDOMAIN or SERVFAIL is an observation (``[DNS_RCODE]``); only no answer
at all (a timeout, no reachable nameserver) is an error.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any, ClassVar, Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.resolver
import dns.reversename
from dns.rdtypes.txtbase import TXTBase
from pydantic import Field, IPvAnyAddress, field_validator, model_validator

from probes.conditions import evaluate_all
from probes.result import ProbeResult
from probes.spec import ProbeSpec

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "CAA", "PTR"]


class DnsSpec(ProbeSpec):
    """A DNS question, who to ask, and what the answer must hold."""

    kind: Literal["dns"] = "dns"
    name: str = Field(min_length=1, description="the name to look up (or an IP address for PTR)")
    record_type: RecordType = Field(default="A", description="the record type asked for")
    resolver: IPvAnyAddress | None = Field(
        default=None, description="IP address of the nameserver to ask; default the system's"
    )
    resolver_port: int = Field(default=53, ge=1, le=65535, description="port of `resolver`")
    expect_answers: list[str] | None = Field(
        default=None, description="answers that must all be among those returned"
    )
    expect_rcode: str | None = Field(
        default="NOERROR",
        description="the response code expected; a condition on [DNS_RCODE] replaces the default",
    )

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"DNS_RCODE", "ANSWERS", "ANSWER_COUNT", "RESPONSE_TIME"}
    )

    @field_validator("record_type", mode="before")
    @classmethod
    def _upper_type(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("expect_rcode")
    @classmethod
    def _known_rcode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return dns.rcode.to_text(dns.rcode.from_text(value.upper()))
        except dns.rcode.UnknownRcode:
            raise ValueError(f"unknown DNS rcode {value!r} (e.g. NOERROR, NXDOMAIN)") from None

    @model_validator(mode="after")
    def _valid_name(self) -> DnsSpec:
        try:
            self.query_name()
        except dns.exception.DNSException as error:
            raise ValueError(f"{self.name!r} is not a DNS name: {error}") from None
        return self

    def query_name(self) -> dns.name.Name:
        """Return the absolute name asked for; a PTR of an IP address asks for its reverse name."""
        if self.record_type == "PTR" and _is_ip_address(self.name):
            return dns.reversename.from_address(self.name)
        return dns.name.from_text(self.name)

    @property
    def required_rcode(self) -> str | None:
        """Return the rcode the built-in expectation wants, or None when conditions decide."""
        written = "expect_rcode" in self.model_fields_set
        if not written and any("DNS_RCODE" in c.placeholder_names() for c in self.conditions):
            return None
        return self.expect_rcode


class DnsProbe:
    """Runs DnsSpecs with a fresh resolver each time, so nothing is answered from a cache."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: DnsSpec) -> ProbeResult:
        """Ask the question and evaluate the conditions; errors become failed results."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(spec.timeout):
                rcode, answers = await _lookup(spec)
        except (TimeoutError, dns.exception.Timeout):
            return _failed(started, f"timed out after {spec.timeout:g}s")
        except (dns.exception.DNSException, OSError, ValueError) as error:
            return _failed(started, f"{type(error).__name__}: {error}")
        observed = {
            "DNS_RCODE": rcode,
            "ANSWERS": answers,
            "ANSWER_COUNT": len(answers),
            "RESPONSE_TIME": round((time.perf_counter() - started) * 1000, 3),
        }
        return _judge(spec, observed, time.perf_counter() - started, self._clock.time())


async def _lookup(spec: DnsSpec) -> tuple[str, list[str]]:
    """Return the response code and the answers as text (sorted: round-robin order is noise)."""
    # Reading the system configuration opens a file: not on the event loop.
    resolver = await asyncio.to_thread(_make_resolver, spec)
    try:
        answer = await resolver.resolve(
            spec.query_name(), spec.record_type, search=False, raise_on_no_answer=False
        )
    except dns.resolver.NXDOMAIN:
        return "NXDOMAIN", []
    except dns.resolver.YXDOMAIN:
        return "YXDOMAIN", []
    except dns.resolver.NoNameservers as error:
        rcode = _answered_rcode(error)
        if rcode is None:
            raise
        return rcode, []
    texts = sorted(_answer_text(r) for r in answer.rrset or ())
    return dns.rcode.to_text(answer.response.rcode()), texts


def _make_resolver(spec: DnsSpec) -> dns.asyncresolver.Resolver:
    if spec.resolver is None:
        resolver = dns.asyncresolver.Resolver()
    else:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.port = spec.resolver_port  # before the nameservers, which take it when set
        resolver.nameservers = [str(spec.resolver)]
    resolver.timeout = resolver.lifetime = spec.timeout
    return resolver


def _answered_rcode(error: dns.resolver.NoNameservers) -> str | None:
    """Return the rcode of the last nameserver that did answer (SERVFAIL, REFUSED…), if any."""
    for *_, response in reversed(error.kwargs.get("errors", [])):
        if response is not None:
            return dns.rcode.to_text(response.rcode())
    return None


def _answer_text(rdata: dns.rdata.Rdata) -> str:
    if isinstance(rdata, TXTBase):  # the text itself, not its quoted presentation form
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    return rdata.to_text()


def _judge(spec: DnsSpec, observed: dict[str, Any], duration_s: float, now: float) -> ProbeResult:
    outcomes = evaluate_all(spec.conditions, {**observed, "NOW": now})
    problems: list[str] = []
    required = spec.required_rcode
    if required is not None and observed["DNS_RCODE"] != required:
        problems.append(f"rcode {observed['DNS_RCODE']}, expected {required}")
    missing = _missing_answers(spec, observed["ANSWERS"])
    if missing:
        problems.append(f"answers lack {', '.join(repr(m) for m in missing)}")
    return ProbeResult.judged(outcomes, problems, duration_s, observed)


def _missing_answers(spec: DnsSpec, answers: list[str]) -> list[str]:
    have = {_comparable(spec.record_type, a) for a in answers}
    expected = spec.expect_answers or []
    return [e for e in expected if _comparable(spec.record_type, e) not in have]


def _comparable(record_type: str, text: str) -> str:
    # Names ignore case and the final dot ("mail.example.com." == "Mail.Example.com"); TXT is data.
    return text if record_type == "TXT" else text.rstrip(".").casefold()


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _failed(started: float, reason: str) -> ProbeResult:
    return ProbeResult(ok=False, duration_s=time.perf_counter() - started, error=reason)
