"""Postmortem Markdown to HTML safe on the public page and in the console.

CommonMark with tables and strikethrough, raw HTML off (a tag someone types shows as text),
link targets other than web, mail or relative addresses dropped (``links.is_safe_link``),
and links marked ``rel="nofollow noopener"``. Images are not rendered: the public page should
not fetch whatever address a postmortem names; ``![alt](url)`` shows as a link instead.
Headings move two levels down, under the page's ``h1`` and the section's ``h2``.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

from monitor.postmortems.links import is_safe_link

LINK_REL = "nofollow noopener"
HEADING_SHIFT = 2
CACHED = 256


class _SafeMarkdown(MarkdownIt):
    """markdown-it with exwatch's link policy."""

    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name)
        """Keep a link or reference only if its (normalised) target is allowed."""
        return is_safe_link(url)


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = int(token.tag[1:]) + HEADING_SHIFT
            token.tag = f"h{min(level, 6)}"


def _mark_links(state: StateCore) -> None:
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "link_open":
                child.attrSet("rel", LINK_REL)


def _build() -> MarkdownIt:
    parser = _SafeMarkdown("commonmark", {"html": False}).enable(["table", "strikethrough"])
    parser.disable("image")
    parser.core.ruler.push("exwatch_headings", _shift_headings)
    parser.core.ruler.push("exwatch_links", _mark_links)
    return parser


_PARSER = _build()


# Every snapshot renders every incident page again (every change, and every 30 s), and a long
# postmortem takes markdown-it a few hundred milliseconds: unchanged texts are rendered once.
@lru_cache(maxsize=CACHED)
def render_postmortem(markdown: str) -> Markup:
    """Return the postmortem's HTML: sanitised, safe to insert unescaped in a page."""
    # Markup is safe here: raw HTML is off and every link target was checked.
    return Markup(_PARSER.render(markdown))
