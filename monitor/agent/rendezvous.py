"""Rendezvous (highest-random-weight) hashing: which of a region's live agents runs a check.

Every agent of a region computes the same answer from the same inputs, with no coordination:
the weight of a pair depends only on (agent id, check id), never on the order or the number of
agents. So when an agent joins or leaves, only the checks it gains or held move.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# NUL cannot occur in an agent id (printable only), so "a" + "bc" and "ab" + "c" differ.
_SEPARATOR = b"\0"


def weight(agent_id: str, check_id: str) -> int:
    """Return the pair's pseudo-random weight: a 64-bit integer from BLAKE2b."""
    digest = hashlib.blake2b(
        agent_id.encode() + _SEPARATOR + check_id.encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big")


def owner(check_id: str, agents: Iterable[str]) -> str:
    """Return the agent that runs ``check_id``: the highest weight (a tie, to the larger id)."""
    candidates = set(agents)
    if not candidates:
        raise ValueError("no agent to own the check")
    return max(candidates, key=lambda agent: (weight(agent, check_id), agent))


def owned(check_ids: Iterable[str], agents: Iterable[str], me: str) -> frozenset[str]:
    """Return the checks among ``check_ids`` that ``me`` runs; ``me`` counts as live."""
    live = set(agents) | {me}
    return frozenset(check for check in check_ids if owner(check, live) == me)
