"""The metric names a PromQL expression reads: a small tokenizer, enough for our dashboards.

Strings, label matchers (``{...}``), ranges (``[...]``) and label lists (``by (...)``) are cut
out first; then every identifier that is not a keyword and not called like a function is a
metric name.
"""

from __future__ import annotations

import re

KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
     "offset", "bool", "inf", "nan", "atan2"}
)  # fmt: skip
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
MATCHERS = re.compile(r"\{[^{}]*\}")
RANGE = re.compile(r"\[[^\[\]]*\]")
LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
# Numbers (with a duration or exponent suffix) come first so that ``5m`` is not a name.
TOKEN = re.compile(r"(?P<number>\d[\w.]*)|(?P<name>[A-Za-z_:][\w:]*)(?P<call>\s*\()?|.", re.S)


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects."""
    stripped = STRING.sub('""', expr)
    for pattern in (MATCHERS, RANGE, LABEL_LIST):
        stripped = pattern.sub(" ", stripped)
    names: set[str] = set()
    for token in TOKEN.finditer(stripped):
        name = token.group("name")
        if name and not token.group("call") and name.lower() not in KEYWORDS:
            names.add(name)
    return names
