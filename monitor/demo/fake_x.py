"""The demo's X: a stand-in for ``POST /2/tweets`` and a page showing the posts as threads.

The demo points ``notifications.x.api_base_url`` at the simulated exchange, so exwatch's real X
channel (tweepy, OAuth 1.0a signing, threading by reply) runs end to end without an account.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Post:
    """One post: its id, text and the post it replies to."""

    id: str
    text: str
    reply_to: str | None


class FakeX:
    """Accepts posts and shows them, replies indented under their thread."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._ids = itertools.count(1_900_000_000_000_000_000)

    def routes(self) -> Iterator[web.RouteDef]:
        """``POST /2/tweets`` (X API v2's shape) and ``GET /_demo/x``."""
        yield web.post("/2/tweets", self._create)
        yield web.get("/_demo/x", self._timeline)

    async def _create(self, request: web.Request) -> web.Response:
        if "OAuth " not in request.headers.get("Authorization", ""):
            return web.json_response({"title": "Unauthorized"}, status=401)
        body = await request.json()
        reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        post = Post(str(next(self._ids)), str(body.get("text", "")), reply)
        self.posts.append(post)
        return web.json_response({"data": {"id": post.id, "text": post.text}}, status=201)

    async def _timeline(self, _request: web.Request) -> web.Response:
        items = "".join(
            f'<li class="{"reply" if p.reply_to else "root"}"><pre>{escape(p.text)}</pre>'
            f"<small>id {p.id}{' ↳ reply to ' + p.reply_to if p.reply_to else ''}</small></li>"
            for p in self.posts
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Demo X</title><style>"
            "body{font:15px system-ui;margin:1.5rem;max-width:40rem}li{list-style:none;"
            "border:1px solid #ccd;border-radius:8px;padding:.5rem;margin:.4rem 0}"
            ".reply{margin-left:2rem}pre{white-space:pre-wrap;font:inherit;margin:0}</style>"
            f"<h1>Demo X account ({len(self.posts)} posts)</h1><ul>{items}</ul>"
        )
        return web.Response(text=page, content_type="text/html")
