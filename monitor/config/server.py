"""The ``server`` section: how exwatch sits on the network (the reverse proxies it trusts)."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Annotated

from pydantic import AfterValidator, Field

from monitor.config.common import Strict
from probes import Duration


def _cidr(text: str) -> str:
    """Return ``text`` as a normalised network (``10.0.0.0/8``; a bare address is a /32 or /128)."""
    try:
        return str(ip_network(text.strip(), strict=True))
    except ValueError:
        pass
    try:
        network = ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an IP network (use CIDR, e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32)"
        ) from None
    raise ValueError(f"{text!r} has host bits set; the network is {network}")


ProxyNetwork = Annotated[str, AfterValidator(_cidr)]


class Server(Strict):
    """Network settings of the exwatch server."""

    trusted_proxies: tuple[ProxyNetwork, ...] = Field(
        default=(),
        description=(
            "reverse proxies (CIDR) whose X-Forwarded-For is believed for per-client limits; "
            "from any other peer the header is ignored"
        ),
    )
    agent_liveness: Duration = Field(
        default=90.0,
        gt=0,
        description=(
            "how long after its last fetch of the checks an agent still counts as live and keeps "
            "its share of its region's checks (3 x the agents' refetch interval is a good value)"
        ),
    )
