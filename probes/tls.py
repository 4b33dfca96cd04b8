"""The ``tls`` probe: a server's leaf certificate, its expiry, its chain and its name.

Three handshakes, so that each answer is exact: one that verifies nothing (the certificate is
read even when it is broken), one that verifies only the chain (hostname checks off), and one
that verifies only the name (the leaf itself is the trust anchor, so OpenSSL's name check is
the first thing that can fail).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any, ClassVar, Literal

from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import Field, FilePath

from probes.conditions import evaluate_all
from probes.result import ProbeResult
from probes.spec import ProbeSpec

# OpenSSL's X509_V_ERR_* codes for a name that the certificate does not cover.
_NAME_MISMATCH = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
# Checked after the name, so a certificate failing only these did match the name.
_CHECKED_AFTER_NAME = frozenset({9, 10})  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED
_NAME_LIMIT = 200
SECONDS_PER_DAY = 86400.0


class TlsSpec(ProbeSpec):
    """A TLS server whose certificate must verify, match its name and not expire soon."""

    kind: Literal["tls"] = "tls"
    host: str = Field(min_length=1, description="host name or IP address to connect to")
    port: int = Field(default=443, ge=1, le=65535, description="TCP port")
    server_name: str | None = Field(
        default=None, min_length=1, description="SNI and the name to match; defaults to host"
    )
    ca_file: FilePath | None = Field(
        default=None, description="PEM file of trusted CAs, instead of the system's"
    )
    verify: bool = Field(
        default=True, description="fail unless the chain verifies and the name matches"
    )
    min_days: float | None = Field(
        default=None, description="fail when the certificate expires in fewer days"
    )

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"CERT_EXPIRY", "CERT_DAYS", "CHAIN_VALID", "HOSTNAME_MATCH", "CONNECTED", "RESPONSE_TIME"}
    )

    @property
    def sni(self) -> str:
        """Return the name sent as SNI and matched against the certificate."""
        return self.server_name or self.host


class TlsProbe:
    """Runs TlsSpecs on fresh connections each time."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: TlsSpec) -> ProbeResult:
        """Read and check the certificate; errors become failed results."""
        started = time.perf_counter()
        observed: dict[str, Any] = {"CONNECTED": False}
        now = self._clock.time()
        try:
            async with asyncio.timeout(spec.timeout):
                await _observe(spec, started, now, observed)
        except TimeoutError:
            return _failed(started, observed, f"timed out after {spec.timeout:g}s")
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
            return _failed(started, observed, f"{type(error).__name__}: {error}")
        return _judge(spec, observed, time.perf_counter() - started, now)


async def _observe(spec: TlsSpec, started: float, now: float, observed: dict[str, Any]) -> None:
    """Fill ``observed`` from the three handshakes."""
    der = await _handshake(spec, _unverified_context())
    observed.update(CONNECTED=True, RESPONSE_TIME=round((time.perf_counter() - started) * 1000, 3))
    observed.update(_describe(x509.load_der_x509_certificate(der), now))
    # Loading the CA bundle reads and parses a file: not on the event loop.
    chain_context = await asyncio.to_thread(_chain_context, spec)
    # Both handshakes finish before any error is raised, so none is left running unobserved.
    outcomes = await asyncio.gather(
        _handshake(spec, chain_context),
        _handshake(spec, _name_context(der)),
        return_exceptions=True,
    )
    chain_error, name_error = (_verification_failure(outcome) for outcome in outcomes)
    observed["CHAIN_VALID"] = chain_error is None
    if chain_error is not None:
        observed["chain_error"] = chain_error.verify_message
    observed["HOSTNAME_MATCH"] = _name_matches(name_error)


async def _handshake(spec: TlsSpec, context: ssl.SSLContext) -> bytes:
    """Connect, complete the TLS handshake, and return the leaf certificate (DER)."""
    _, writer = await asyncio.open_connection(
        spec.host, spec.port, ssl=context, server_hostname=spec.sni
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.transport.abort()  # a polite TLS shutdown could wait on the server for long
    if not der:
        raise ValueError("the server sent no certificate")
    return bytes(der)


def _verification_failure(outcome: bytes | BaseException) -> ssl.SSLCertVerificationError | None:
    """Return the handshake's certificate verification failure, re-raising any other error."""
    if isinstance(outcome, ssl.SSLCertVerificationError):
        return outcome
    if isinstance(outcome, BaseException):
        raise outcome
    return None


def _unverified_context() -> ssl.SSLContext:
    # The same protocol settings as the verifying contexts, without any verification.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _chain_context(spec: TlsSpec) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=spec.ca_file)
    context.check_hostname = False
    return context


def _name_context(der: bytes) -> ssl.SSLContext:
    # Trusting the leaf itself leaves the name (and the dates, checked after it) to verify.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=der)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def _name_matches(error: ssl.SSLCertVerificationError | None) -> bool | None:
    """Return whether the name matched; None when OpenSSL stopped before checking it."""
    if error is None or error.verify_code in _CHECKED_AFTER_NAME:
        return True
    if error.verify_code in _NAME_MISMATCH:
        return False
    return None


def _describe(certificate: x509.Certificate, now: float) -> dict[str, Any]:
    not_after = certificate.not_valid_after_utc
    expiry = not_after.timestamp() - now
    return {
        "CERT_EXPIRY": round(expiry, 3),
        "CERT_DAYS": round(expiry / SECONDS_PER_DAY, 4),
        "not_after": not_after.isoformat(),
        "subject": _short_name(certificate.subject),
        "issuer": _short_name(certificate.issuer),
    }


def _short_name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = str(common[0].value) if common else name.rfc4514_string()
    return text[:_NAME_LIMIT]


def _judge(spec: TlsSpec, observed: dict[str, Any], duration_s: float, now: float) -> ProbeResult:
    outcomes = evaluate_all(spec.conditions, {**observed, "NOW": now})
    problems = _expectation_problems(spec, observed)
    return ProbeResult.judged(outcomes, problems, duration_s, observed)


def _expectation_problems(spec: TlsSpec, observed: dict[str, Any]) -> list[str]:
    """Return the built-in expectations that failed, in words."""
    problems: list[str] = []
    if spec.verify and not observed["CHAIN_VALID"]:
        problems.append(f"certificate chain does not verify: {observed['chain_error']}")
    if spec.verify and observed["HOSTNAME_MATCH"] is False:
        problems.append(f"certificate is not valid for {spec.sni!r}")
    if spec.verify and observed["HOSTNAME_MATCH"] is None:
        problems.append(f"certificate name could not be checked against {spec.sni!r}")
    days = observed["CERT_DAYS"]
    if spec.min_days is not None and days < spec.min_days:
        problems.append(f"certificate expires in {days:.1f} days, under min_days {spec.min_days:g}")
    return problems


def _failed(started: float, observed: dict[str, Any], reason: str) -> ProbeResult:
    return ProbeResult(
        ok=False, duration_s=time.perf_counter() - started, observed=observed, error=reason
    )
