"""The regional probe agent: runs its region's checks and reports results to an exwatch server.

``exwatch agent --server URL --region NAME --token T`` fetches the checks assigned to the region
from ``/api/agent/checks``, runs them with the project's scheduler, keeps every result in an
on-disk buffer and pushes the buffer to ``/api/agent/results`` in batches, so a server outage
or an agent restart loses nothing (up to the buffer's bound).

Several agents may serve one region: each fetch names the agent (``--agent-id``, by default
kept beside the buffer) and the server answers with the region's live agents; each agent runs
only the checks rendezvous hashing gives it (``monitor.agent.rendezvous``).
"""

from monitor.agent.api import (
    AgentApi,
    AgentApiError,
    CheckSet,
    PayloadTooLargeError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
    UnexpectedStatusError,
)
from monitor.agent.buffer import BufferInUseError, DiskBuffer
from monitor.agent.runner import Agent, AgentStats, result_payload, run_agent
from monitor.agent.settings import AgentSettings

__all__ = [
    "Agent",
    "AgentApi",
    "AgentApiError",
    "AgentSettings",
    "AgentStats",
    "BufferInUseError",
    "CheckSet",
    "DiskBuffer",
    "PayloadTooLargeError",
    "RejectedError",
    "RetryableError",
    "UnauthorizedError",
    "UnexpectedStatusError",
    "result_payload",
    "run_agent",
]
