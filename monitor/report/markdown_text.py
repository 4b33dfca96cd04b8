"""Markdown building blocks that keep free text (reasons, updates, reports) from becoming markup.

Text from responders, reporters and probes is shown as written: characters CommonMark would read
as markup are backslash-escaped, table cells keep to one line (line breaks become ``<br>``),
and multi-line text is quoted line by line with hard breaks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_INLINE = re.compile(r"([\\`*\[\]<>|~])")
# Underscores only make emphasis at a word's edge, so major_outage stays readable.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_BLOCK_START = re.compile(r"^(#|\+|-|=|(\d+)([.)]))")


def inline(text: str) -> str:
    """Return one line of text with everything CommonMark reads as inline markup escaped."""
    text = _INLINE.sub(r"\\\1", text)
    text = _EDGE_UNDERSCORE.sub(r"\\_", text)
    return _ENTITY.sub(r"\\&", text)


def one_line(text: str) -> str:
    """Return text flattened to one escaped line (for headings, where ``#`` can close one)."""
    flat = " ".join(part.strip() for part in text.splitlines()).strip()
    return inline(flat).replace("#", "\\#")


def cell(text: str | None) -> str:
    """Return text fit for one table cell: escaped, ``|`` kept in, line breaks as ``<br>``."""
    if not text:
        return ""
    return "<br>".join(inline(line.strip()) for line in text.strip().splitlines())


def quoted(text: str) -> list[str]:
    """Return multi-line text as blockquote lines, each line kept as its own line."""
    lines = [_block_line(line) for line in text.splitlines()] or [""]
    out = []
    for index, line in enumerate(lines):
        follows = index + 1 < len(lines) and lines[index + 1] != ""
        out.append(f"> {line}\\" if line and follows else f"> {line}".rstrip())
    return out


def _block_line(line: str) -> str:
    """Escape a line, then anything at its start that would open a heading, list or rule."""
    escaped = inline(line.strip())
    match = _BLOCK_START.match(escaped)
    if match is None:
        return escaped
    if match.group(2):  # "1." or "1)": an ordered list item
        return f"{match.group(2)}\\{escaped[len(match.group(2)) :]}"
    return "\\" + escaped


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Return a GitHub-flavoured table; cells must already be ``cell``-escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines
