"""The dns probe against a tiny authoritative DNS server on 127.0.0.1 (UDP)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pydantic
import pytest

from probes import ProbeResult
from probes.dns import DnsProbe, DnsSpec

ZONE_NAME = dns.name.from_text("api.exchange.test.")
RECORDS = {
    dns.rdatatype.A: ["192.0.2.10", "192.0.2.11"],
    dns.rdatatype.TXT: ['"status=ok"'],
    dns.rdatatype.MX: ["10 mail.exchange.test."],
}
REFUSED_NAME = dns.name.from_text("refused.test.")


class Authority(asyncio.DatagramProtocol):
    """Answers for ZONE_NAME, refuses REFUSED_NAME, and says NXDOMAIN for everything else."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        if question.name == ZONE_NAME:
            texts = RECORDS.get(question.rdtype, [])
            if texts:
                response.answer.append(
                    dns.rrset.from_text(question.name, 300, "IN", question.rdtype, *texts)
                )
        elif question.name == REFUSED_NAME:
            response.set_rcode(dns.rcode.REFUSED)
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(response.to_wire(), addr)


@pytest.fixture
async def nameserver() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Authority, local_addr=("127.0.0.1", 0))
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


async def probe(port: int, **fields: object) -> ProbeResult:
    spec = DnsSpec.model_validate(
        {"kind": "dns", "resolver": "127.0.0.1", "resolver_port": port, **fields}
    )
    return await DnsProbe().run(spec)


async def test_answers_are_observed_and_expected(nameserver: int) -> None:
    result = await probe(
        nameserver,
        name="api.exchange.test",
        expect_answers=["192.0.2.11"],
        conditions=["[ANSWER_COUNT] == 2", '[ANSWERS][0] == "192.0.2.10"', "[RESPONSE_TIME] < 2s"],
    )
    assert result.ok, result.failure_reason
    assert result.observed["DNS_RCODE"] == "NOERROR"
    assert result.observed["ANSWERS"] == ["192.0.2.10", "192.0.2.11"]
    assert result.observed["RESPONSE_TIME"] > 0


async def test_txt_answers_are_the_text_itself(nameserver: int) -> None:
    result = await probe(
        nameserver, name="api.exchange.test", record_type="txt", expect_answers=["status=ok"]
    )
    assert result.ok, result.failure_reason
    assert result.observed["ANSWERS"] == ["status=ok"]


async def test_names_compare_without_case_or_final_dot(nameserver: int) -> None:
    result = await probe(
        nameserver,
        name="api.exchange.test",
        record_type="MX",
        expect_answers=["10 Mail.Exchange.TEST"],
    )
    assert result.ok, result.failure_reason
    assert result.observed["ANSWERS"] == ["10 mail.exchange.test."]


async def test_a_missing_expected_answer_fails(nameserver: int) -> None:
    result = await probe(nameserver, name="api.exchange.test", expect_answers=["192.0.2.99"])
    assert not result.ok
    assert result.error == "answers lack '192.0.2.99'"


async def test_no_record_of_the_type_is_noerror_with_no_answers(nameserver: int) -> None:
    result = await probe(nameserver, name="api.exchange.test", record_type="AAAA")
    assert result.ok, result.failure_reason
    assert (result.observed["DNS_RCODE"], result.observed["ANSWER_COUNT"]) == ("NOERROR", 0)


async def test_nxdomain_is_an_observation(nameserver: int) -> None:
    by_condition = await probe(
        nameserver, name="gone.exchange.test", conditions=['[DNS_RCODE] == "NXDOMAIN"']
    )
    assert by_condition.ok, by_condition.failure_reason
    assert by_condition.observed["ANSWERS"] == []
    assert (await probe(nameserver, name="gone.exchange.test", expect_rcode="nxdomain")).ok
    by_default = await probe(nameserver, name="gone.exchange.test")
    assert not by_default.ok
    assert by_default.error == "rcode NXDOMAIN, expected NOERROR"


async def test_an_explicit_expect_rcode_still_applies_with_conditions(nameserver: int) -> None:
    result = await probe(
        nameserver,
        name="gone.exchange.test",
        expect_rcode="NOERROR",
        conditions=['[DNS_RCODE] == "NXDOMAIN"'],
    )
    assert not result.ok
    assert result.conditions[0].ok


async def test_a_refusing_server_is_an_observation(nameserver: int) -> None:
    result = await probe(nameserver, name="refused.test", expect_rcode="REFUSED")
    assert result.ok, result.failure_reason
    assert result.observed["DNS_RCODE"] == "REFUSED"


async def test_no_server_on_the_port_is_a_timeout_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await probe(port, name="api.exchange.test", timeout="200ms")
    assert not result.ok
    assert result.observed == {}
    assert result.error == "timed out after 0.2s"
    assert result.duration_s < 1.5


def test_ptr_of_an_ip_address_asks_for_the_reverse_name() -> None:
    spec = DnsSpec(name="192.0.2.10", record_type="PTR")
    assert spec.query_name() == dns.name.from_text("10.2.0.192.in-addr.arpa.")


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "a.test", "record_type": "ANY"},
        {"name": "a.test", "expect_rcode": "ALLGOOD"},
        {"name": "a.test", "resolver": "not-an-ip"},
        {"name": "a.test", "resolver_port": 0},
        {"name": "x" * 64 + ".test"},
        {"name": "a.test", "conditions": ["[STATUS] == 200"]},
    ],
)
def test_bad_specs_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        DnsSpec.model_validate({"kind": "dns", **fields})
