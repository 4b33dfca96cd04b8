"""Which link targets a postmortem may keep: web and mail addresses, and relative ones."""

from __future__ import annotations

import re

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
_PATH_START = re.compile(r"[/?#]")


def is_safe_link(url: str) -> bool:
    """True for http, https and mailto URLs and for relative ones; false for any other scheme.

    An allow-list, not a deny-list of ``javascript:`` and ``data:``: a colon before the first
    ``/``, ``?`` or ``#`` makes a scheme for a browser, and any scheme not listed is refused,
    including ones disguised by case, spaces or control characters.
    """
    head = _PATH_START.split(url, maxsplit=1)[0]
    if ":" not in head:
        return True
    scheme = head.partition(":")[0]
    return scheme.lower() in ALLOWED_SCHEMES
