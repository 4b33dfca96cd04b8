"""Who a client is: the peer's address, or behind trusted proxies the one they forwarded.

The per-client limits (failed logins, user reports, subscription requests) count by this
address. Behind a reverse proxy every visitor's peer is the proxy, so they would all share one
limit; ``server.trusted_proxies`` lists the proxies whose ``X-Forwarded-For`` is believed.
From any other peer the header is ignored: a visitor cannot choose its own address.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_network

from starlette.requests import HTTPConnection
from starlette.types import Scope

from monitor.security.forwarded import (
    Network,
    is_trusted,
    originating_client,
    parse_forwarded_for,
    parse_hop,
)

_FORWARDED_FOR = b"x-forwarded-for"


class ClientAddress:
    """``client_address(request)``: the address a request came from, for per-client limits."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self.trusted: tuple[Network, ...] = tuple(ip_network(n) for n in trusted_proxies)

    def __call__(self, request: HTTPConnection) -> str:
        """Return the client's address (``""`` when the server knows no peer)."""
        return self.of_scope(request.scope)

    def of_scope(self, scope: Scope) -> str:
        """Return the client's address of an ASGI ``scope`` (for middleware)."""
        client = scope.get("client")
        peer = str(client[0]) if client else ""
        if not self.trusted or not is_trusted(parse_hop(peer), self.trusted):
            return peer
        values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == _FORWARDED_FOR]
        return originating_client(peer, parse_forwarded_for(values), self.trusted)


DIRECT = ClientAddress()
"""The peer's address, whatever the headers say (no trusted proxies)."""
