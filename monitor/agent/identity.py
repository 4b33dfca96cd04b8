"""An agent's stable id: given, or the host name plus a random suffix kept beside its buffer.

Agents of one region split its checks by this id (``monitor.agent.rendezvous``), so it must
survive a restart: a new id at every start would move checks between agents for nothing.
"""

from __future__ import annotations

import re
import secrets
import socket
from pathlib import Path

MAX_AGENT_ID = 64
# Printable ASCII without spaces: the id travels in a query string and shows in logs.
AGENT_ID_PATTERN = r"^[!-~]{1,64}$"
_VALID = re.compile(AGENT_ID_PATTERN)
_ID_FILE = "agent_id"


def check_agent_id(agent_id: str) -> str:
    """Return ``agent_id`` if it is valid; else raise ValueError saying what is wrong."""
    if not _VALID.fullmatch(agent_id):
        raise ValueError(
            f"agent id {agent_id!r} must be 1 to {MAX_AGENT_ID} printable ASCII characters "
            "without spaces"
        )
    return agent_id


def stored_agent_id(directory: Path) -> str:
    """Return the id kept in ``directory``, making and keeping a new one on the first call."""
    path = directory / _ID_FILE
    if path.exists():
        return check_agent_id(path.read_text(encoding="utf-8").strip())
    agent_id = new_agent_id(socket.gethostname())
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(agent_id + "\n", encoding="utf-8")
    return agent_id


def new_agent_id(hostname: str) -> str:
    """Return ``hostname-xxxxxx``: the host name (made valid, shortened) and a random suffix."""
    suffix = secrets.token_hex(3)
    host = re.sub(r"[^!-~]", "-", hostname)[: MAX_AGENT_ID - len(suffix) - 1] or "agent"
    return f"{host}-{suffix}"
