"""The X-Forwarded-For parser and the walk to the client: properties over any chain."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_network

from hypothesis import given
from hypothesis import strategies as st

from monitor.security.forwarded import (
    Address,
    originating_client,
    parse_forwarded_for,
    parse_hop,
)

TRUSTED = (ip_network("10.0.0.0/8"), ip_network("fd00::/8"))
# IPv4-mapped IPv6 addresses are read as the IPv4 address they map (their own test below).
addresses = st.ip_addresses().filter(lambda a: getattr(a, "ipv4_mapped", None) is None)
proxies = st.ip_addresses(network="10.0.0.0/8") | st.ip_addresses(network="fd00::/8")
outsiders = addresses.filter(lambda a: not any(a in n for n in TRUSTED))
ports = st.integers(min_value=0, max_value=65535)


@st.composite
def written(draw: st.DrawFn, address: Address) -> str:
    """``address`` as a proxy may write it: with or without a port, spaces around."""
    port = draw(st.none() | ports)
    if port is None:
        text = str(address)
    elif isinstance(address, IPv6Address):
        text = f"[{address}]:{port}"
    else:
        text = f"{address}:{port}"
    return draw(st.sampled_from(["", " ", "  "])) + text + draw(st.sampled_from(["", " "]))


@st.composite
def header_values(draw: st.DrawFn, hops: list[Address]) -> list[str]:
    """``hops`` written into one or more header lines (proxies may add a line each)."""
    entries = [draw(written(hop)) for hop in hops]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(entries) - 1)), max_size=3)))
    lines, start = [], 0
    for cut in [*cuts, len(entries)]:
        if cut > start:
            lines.append(",".join(entries[start:cut]))
            start = cut
    return lines


@given(st.lists(addresses, min_size=1, max_size=8).flatmap(
    lambda hops: st.tuples(st.just(hops), header_values(hops))
))  # fmt: skip
def test_every_address_written_comes_back_in_order(case: tuple[list[Address], list[str]]) -> None:
    hops, lines = case
    assert parse_forwarded_for(lines) == hops


@given(st.lists(st.text(max_size=40), max_size=5))
def test_any_text_parses_to_one_hop_per_entry_without_raising(lines: list[str]) -> None:
    hops = parse_forwarded_for(lines)
    assert len(hops) == sum(line.count(",") + 1 for line in lines)
    assert all(hop is None or isinstance(hop, IPv4Address | IPv6Address) for hop in hops)


@given(
    spoofed=st.lists(st.text(alphabet=st.characters(blacklist_characters=","), max_size=30)),
    client=outsiders,
    chain=st.lists(proxies, min_size=1, max_size=4),
)
def test_what_the_client_wrote_never_changes_who_it_is(
    spoofed: list[str], client: Address, chain: list[Address]
) -> None:
    # The client sends any X-Forwarded-For it likes; each trusted proxy appends its peer.
    *forwarders, peer = chain
    line = ",".join([*spoofed, str(client), *(str(p) for p in forwarders)])
    assert originating_client(str(peer), parse_forwarded_for([line]), TRUSTED) == str(client)


@given(peer=outsiders, lines=st.lists(st.text(max_size=30), max_size=3))
def test_an_untrusted_peer_is_the_client_whatever_it_forwards(
    peer: Address, lines: list[str]
) -> None:
    assert originating_client(str(peer), parse_forwarded_for(lines), TRUSTED) == str(peer)


@given(chain=st.lists(proxies, min_size=2, max_size=5))
def test_when_every_hop_is_trusted_the_leftmost_is_the_client(chain: list[Address]) -> None:
    *forwarded, peer = chain
    line = ", ".join(str(hop) for hop in forwarded)
    assert originating_client(str(peer), parse_forwarded_for([line]), TRUSTED) == str(chain[0])


def test_the_walk_stops_at_the_proxy_that_wrote_something_not_an_address() -> None:
    hops = parse_forwarded_for(["198.51.100.7, unknown, 10.0.0.3"])
    assert originating_client("10.0.0.1", hops, TRUSTED) == "10.0.0.3"


def test_hops_keep_their_ports_out_and_unmap_ipv4_in_ipv6() -> None:
    assert parse_hop(" [2001:db8::1]:443 ") == IPv6Address("2001:db8::1")
    assert parse_hop("192.0.2.1:4711") == IPv4Address("192.0.2.1")
    assert parse_hop("::ffff:192.0.2.1") == IPv4Address("192.0.2.1")
    for junk in ("", "unknown", "_hidden", "192.0.2.1:99999", "192.0.2.1:", "[::1", "[::1]x", "1"):
        assert parse_hop(junk) is None, junk
