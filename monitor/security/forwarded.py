"""``X-Forwarded-For``: parsing its chain of hops, and finding the client at the end of it.

Each proxy appends the address it received the request from, so only the entries on the right,
written by proxies exwatch trusts, are facts; anything to their left is what the client said.
The client is therefore the rightmost hop that is not a trusted proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Hop = Address | None
"""One entry of the chain; None for one that is not an address (``unknown``, a name, junk)."""

MAX_PORT = 65535


def parse_forwarded_for(values: Iterable[str]) -> list[Hop]:
    """Return the hops of the ``X-Forwarded-For`` header ``values`` in order, leftmost first.

    Several header lines form one list, as RFC 9110 §5.3 says. Entries may carry a port
    (``192.0.2.1:4711``, ``[2001:db8::1]:443``); IPv4-mapped IPv6 addresses become IPv4.
    """
    return [parse_hop(entry) for value in values for entry in value.split(",")]


def parse_hop(text: str) -> Hop:
    """Return the address in one ``X-Forwarded-For`` entry, or None if it holds none."""
    host = _without_port(text.strip())
    if host is None:
        return None
    try:
        address = ip_address(host)
    except ValueError:
        return None
    return unmapped(address)


def _without_port(text: str) -> str | None:
    if text.startswith("["):  # [IPv6] or [IPv6]:port
        inside, closed, rest = text[1:].partition("]")
        return inside if closed and (not rest or _is_port(rest)) else None
    if text.count(":") == 1:  # IPv4:port (an IPv6 address has several colons)
        host, _, port = text.partition(":")
        return host if _is_port(":" + port) else None
    return text


def _is_port(written: str) -> bool:
    """True for ``:N`` with N a port number."""
    port = written[1:]
    return written.startswith(":") and port.isascii() and port.isdigit() and int(port) <= MAX_PORT


def unmapped(address: Address) -> Address:
    """Return an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) as the IPv4 address it maps."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    """True if ``address`` is in one of the ``trusted`` networks."""
    return address is not None and any(address in network for network in trusted)


def originating_client(peer: str, hops: Sequence[Hop], trusted: Sequence[Network]) -> str:
    """Return who sent the request: walking from ``peer`` leftwards through ``hops``, the first
    address that is not a trusted proxy.

    Only a trusted proxy's word is taken for the hop before it. When every hop is trusted, the
    leftmost is the client; at an entry that is not an address the walk stops at the proxy
    that wrote it (the client cannot be known, and the proxy must not be spoofable).
    """
    current, address = peer, _address(peer)
    for hop in reversed(hops):
        if not is_trusted(address, trusted) or hop is None:
            return current
        current, address = str(hop), hop
    return current


def _address(text: str) -> Address | None:
    try:
        return unmapped(ip_address(text))
    except ValueError:
        return None
