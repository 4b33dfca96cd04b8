"""Incidents to write postmortems for, a service that counts page refreshes, and XSS payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from monitor.domain import ComponentStatus
from monitor.postmortems.service import PostmortemService
from monitor.responder import ManualIncident, Responder
from monitor.storage.database import Database
from tests.lifecycle_support import Lifecycle, lifecycle_config
from tests.support import FakeClock


@dataclass
class Desk:
    """A postmortem service over a database with the engine tests' catalog, and a responder."""

    database: Database
    clock: FakeClock
    responder: Responder
    service: PostmortemService = field(init=False)
    refreshes: int = 0  # how often the service asked for the public page to be rendered again

    def __post_init__(self) -> None:
        self.service = PostmortemService(self.database, self.clock, on_change=self._refresh)

    async def _refresh(self) -> None:
        self.refreshes += 1

    async def open_incident(self) -> int:
        """Open an incident by hand on the website; it stays open."""
        report = ManualIncident(
            "ウェブサイト停止", "Website down", "The website is down", self.clock.now(),
            {"website": ComponentStatus.MAJOR_OUTAGE},
        )  # fmt: skip
        return await self.responder.open(report, self.clock.now(), actor="sre")

    async def resolved_incident(self) -> int:
        """Open an incident and resolve it ten minutes later."""
        incident_id = await self.open_incident()
        self.clock.advance(600)
        await self.responder.resolve(incident_id, self.clock.now(), actor="sre", force=True)
        self.clock.advance(60)
        return incident_id


async def make_desk(database: Database, clock: FakeClock) -> Desk:
    """Start an engine on ``database`` (it writes the catalog) and return the desk."""
    lifecycle = Lifecycle(database, lifecycle_config(), clock)
    await lifecycle.engine.start()
    return Desk(database, clock, lifecycle.responder)


XSS_PAYLOADS = (
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<div onclick=alert(1)>x</div>",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">x</a>',
    '"><script>alert(1)</script>',
    "<<script>script>alert(1)<</script>/script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;vascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click]( javascript:alert(1) )",
    "[click](\x01javascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](DATA:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "[click](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<data:text/html,alert(1)>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[a][r]\n\n[r]: data:text/html,x",
    '[a](https://ok.example "x\\" onmouseover=\\"alert(1)")',
    '[x](#" onclick="alert(1))',
    "```\n<script>alert(1)</script>\n```",
    '```js" onload="alert(1)\ncode\n```',
    "`<script>alert(1)</script>`",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |",
    "# <script>alert(1)</script>",
    "> <script>alert(1)</script>",
    "* [x](javascript:alert(1))",
)
"""Markdown that tries to run script on the page: none of it may survive rendering."""

ALLOWED_TAGS = frozenset(
    {"p", "h3", "h4", "h5", "h6", "em", "strong", "s", "a", "code", "pre", "ul", "ol", "li",
     "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}
)  # fmt: skip
ALIGNMENTS = ("text-align:left", "text-align:center", "text-align:right")
ALLOWED_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20]")


@dataclass
class _Elements(HTMLParser):
    """Collects every start tag with its attributes (entities decoded, as a browser reads them)."""

    found: list[tuple[str, list[tuple[str, str | None]]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Return every element of ``html`` as (tag, attributes)."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def unsafe_parts(html: str) -> list[str]:
    """Return everything in ``html`` that could run script or load from a bad address."""
    problems = ["<script"] if "<script" in html.lower() else []
    for tag, attrs in elements(html):
        if tag not in ALLOWED_TAGS:
            problems.append(f"tag {tag}")
        for name, value in attrs:
            problems.extend(_attribute_problem(tag, name, value or ""))
    return problems


def _attribute_problem(tag: str, name: str, value: str) -> list[str]:
    if name.startswith("on"):
        return [f"{tag} {name}="]
    if name == "href":
        # A browser drops control characters and spaces before reading the scheme.
        scheme = _SCHEME.match(_CONTROL.sub("", value).lower())
        if scheme and scheme.group(1) not in ALLOWED_SCHEMES:
            return [f"href {value!r}"]
        return []
    allowed = {
        ("a", "rel"): lambda v: v == "nofollow noopener",
        ("a", "title"): lambda v: True,
        ("ol", "start"): str.isdigit,
        ("code", "class"): lambda v: v.startswith("language-") and " " not in v.strip(),
        ("th", "style"): lambda v: v in ALIGNMENTS,
        ("td", "style"): lambda v: v in ALIGNMENTS,
    }
    check = allowed.get((tag, name))
    return [] if check is not None and check(value) else [f"{tag} {name}={value!r}"]
