"""Roles and API token secrets: ``exw_`` + 32 random bytes, kept only as a SHA-256 hash.

The tokens carry 256 bits of entropy, so a fast hash is enough: nobody can guess one back
from its hash, and no salt or slow hash is needed (unlike passwords).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

Role = Literal["viewer", "responder", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
"""Weakest first: each role may do everything the ones before it may."""

VIEWER: Role = "viewer"
RESPONDER: Role = "responder"
ADMIN: Role = "admin"
TOKEN_PREFIX = "exw_"


def role_allows(held: str, needed: Role) -> bool:
    """Whether a caller holding ``held`` may use a route that needs ``needed``."""
    return held in ROLES and ROLES.index(held) >= ROLES.index(needed)


def new_token() -> str:
    """Return a new random token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of ``token``: what the database keeps."""
    return hashlib.sha256(token.encode()).hexdigest()
