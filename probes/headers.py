"""Request headers as config gives them, refused at load when they would split the request."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _no_line_breaks(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if any(c in name + value for c in "\r\n\0"):
            raise ValueError(f"header {name!r} contains a line break or NUL")
    return headers


Headers = Annotated[dict[str, str], AfterValidator(_no_line_breaks)]
"""Extra request headers; a line break or NUL in a name or value is a config error."""
