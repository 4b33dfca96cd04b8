"""AgentSettings: where the server is, which region this agent probes from, and its limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from monitor.agent.identity import check_agent_id


@dataclass(frozen=True)
class AgentSettings:
    """How one regional probe agent talks to its exwatch server and buffers results on disk."""

    server_url: str
    """The exwatch server's base URL, e.g. ``https://status.example.com``."""
    region: str
    """The region this agent probes from; the server picks the checks that run here."""
    token: str = field(repr=False)  # never shown in logs or tracebacks
    """The bearer token the server expects from agents."""
    buffer_dir: Path | None = None
    """Where the result buffer lives; ``./exwatch-agent-<region>`` when not given."""
    max_buffered: int = 100_000
    """Results kept on disk while the server is unreachable; past it the oldest are dropped."""
    push_interval: float = 2.0
    """Seconds between pushes of buffered results."""
    refetch_interval: float = 30.0
    """Seconds between fetches of this region's check set."""
    batch_size: int = 1000
    """Results sent in one request at most."""
    request_timeout: float = 10.0
    """Seconds one request to the server may take."""
    agent_id: str | None = None
    """This agent's id among its region's agents; by default one kept in the buffer directory."""

    def __post_init__(self) -> None:
        if not self.server_url.startswith(("http://", "https://")):
            raise ValueError(f"server URL must start with http:// or https://: {self.server_url!r}")
        if not self.region.strip():
            raise ValueError("region must not be empty")
        if not self.token:
            raise ValueError("token must not be empty")
        if self.max_buffered < 1 or self.batch_size < 1:
            raise ValueError("max_buffered and batch_size must be at least 1")
        if min(self.push_interval, self.refetch_interval, self.request_timeout) <= 0:
            raise ValueError("intervals and the request timeout must be positive")
        if self.agent_id is not None:
            check_agent_id(self.agent_id)

    @property
    def buffer_path(self) -> Path:
        """The SQLite file holding buffered results."""
        return self.buffer_directory / "buffer.sqlite3"

    @property
    def buffer_directory(self) -> Path:
        """The directory of the buffer, and of the agent's id when none is given."""
        return self.buffer_dir or Path(f"exwatch-agent-{self.region}")

    @property
    def sends_token_in_clear(self) -> bool:
        """Whether the token would cross a network in clear text: http:// to a non-loopback host."""
        url = urlsplit(self.server_url)
        return url.scheme.lower() == "http" and not _is_loopback(url.hostname or "")


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, as a URL holds it) is this machine's loopback."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # a host name
        return False
