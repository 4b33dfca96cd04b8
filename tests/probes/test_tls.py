"""The tls probe against real local TLS servers with trustme certificates."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pydantic
import pytest
import trustme

from probes import ProbeResult
from probes.tls import TlsProbe, TlsSpec

NAME = "exchange.test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def _hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


@asynccontextmanager
async def serving(leaf: trustme.LeafCert) -> AsyncIterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    server = await asyncio.start_server(_hang_up, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def probe(leaf: trustme.LeafCert, **fields: object) -> ProbeResult:
    async with serving(leaf) as port:
        spec = TlsSpec.model_validate(
            {"kind": "tls", "host": "127.0.0.1", "port": port, "server_name": NAME, **fields}
        )
        return await TlsProbe().run(spec)


async def test_a_trusted_matching_certificate_passes(ca: trustme.CA, ca_file: Path) -> None:
    leaf = ca.issue_cert(NAME, common_name=NAME)
    result = await probe(leaf, ca_file=str(ca_file), conditions=["[CERT_EXPIRY] > 14d"])
    assert result.ok, result.failure_reason
    observed = result.observed
    assert observed["CONNECTED"] is True
    assert observed["CHAIN_VALID"] is True
    assert observed["HOSTNAME_MATCH"] is True
    assert observed["RESPONSE_TIME"] > 0
    assert observed["CERT_DAYS"] > 300
    assert observed["CERT_EXPIRY"] == pytest.approx(observed["CERT_DAYS"] * 86400, abs=10)
    assert observed["subject"] == NAME
    assert "trustme" in observed["issuer"]
    assert datetime.fromisoformat(observed["not_after"]) > datetime.now(UTC)


async def test_an_untrusted_chain_is_reported(ca: trustme.CA) -> None:
    result = await probe(ca.issue_cert(NAME))
    assert not result.ok
    assert result.observed["CHAIN_VALID"] is False
    assert result.observed["HOSTNAME_MATCH"] is True
    assert result.error == (
        "certificate chain does not verify: unable to get local issuer certificate"
    )


async def test_verify_false_leaves_the_chain_to_conditions(ca: trustme.CA) -> None:
    leaf = ca.issue_cert(NAME)
    assert (await probe(leaf, verify=False)).ok
    result = await probe(leaf, verify=False, conditions=["[CHAIN_VALID] == true"])
    assert not result.ok
    assert result.failure_reason == "[CHAIN_VALID] == true → False"


async def test_a_wrong_server_name_is_reported(ca: trustme.CA, ca_file: Path) -> None:
    result = await probe(ca.issue_cert(NAME), ca_file=str(ca_file), server_name="other.test")
    assert not result.ok
    assert result.observed["CHAIN_VALID"] is True
    assert result.observed["HOSTNAME_MATCH"] is False
    assert result.error == "certificate is not valid for 'other.test'"


async def test_ip_addresses_match_ip_sans(ca: trustme.CA, ca_file: Path) -> None:
    leaf = ca.issue_cert("127.0.0.1")
    assert (await probe(leaf, ca_file=str(ca_file), server_name=None)).ok
    result = await probe(leaf, ca_file=str(ca_file), server_name="127.0.0.2")
    assert result.observed["HOSTNAME_MATCH"] is False


async def test_an_expiring_certificate_fails_min_days(ca: trustme.CA, ca_file: Path) -> None:
    leaf = ca.issue_cert(NAME, not_after=datetime.now(UTC) + timedelta(days=3))
    result = await probe(leaf, ca_file=str(ca_file), min_days=14)
    assert not result.ok
    assert result.observed["CHAIN_VALID"] is True
    assert 2.9 < result.observed["CERT_DAYS"] <= 3
    assert result.error == "certificate expires in 3.0 days, under min_days 14"
    assert (await probe(leaf, ca_file=str(ca_file), min_days=2)).ok
    condition = await probe(leaf, ca_file=str(ca_file), conditions=["[CERT_EXPIRY] > 14d"])
    assert not condition.ok
    assert condition.conditions[0].observed < 3 * 86400


async def test_an_expired_certificate_is_still_read(ca: trustme.CA, ca_file: Path) -> None:
    now = datetime.now(UTC)
    leaf = ca.issue_cert(
        NAME, not_before=now - timedelta(days=30), not_after=now - timedelta(days=2)
    )
    result = await probe(leaf, ca_file=str(ca_file))
    assert result.observed["CERT_EXPIRY"] < -86400
    assert result.observed["CHAIN_VALID"] is False
    assert result.observed["chain_error"] == "certificate has expired"
    assert result.observed["HOSTNAME_MATCH"] is True


async def test_a_refused_port_is_a_failed_result() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = TlsSpec(host="127.0.0.1", port=port)
    result = await TlsProbe().run(spec)
    assert not result.ok
    assert result.observed == {"CONNECTED": False}
    assert result.error is not None and "ConnectionRefusedError" in result.error


async def test_a_server_that_never_handshakes_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        spec = TlsSpec(host="127.0.0.1", port=server.sockets[0].getsockname()[1], timeout=0.2)
        result = await TlsProbe().run(spec)
    assert result.error == "timed out after 0.2s"


def test_defaults_and_validation(tmp_path: Path) -> None:
    spec = TlsSpec(host="example.com")
    assert (spec.port, spec.sni, spec.verify, spec.min_days) == (443, "example.com", True, None)
    with pytest.raises(pydantic.ValidationError):
        TlsSpec(host="example.com", ca_file=tmp_path / "missing.pem")
    with pytest.raises(pydantic.ValidationError):
        TlsSpec.model_validate({"host": "example.com", "conditions": ["[STATUS] == 200"]})
