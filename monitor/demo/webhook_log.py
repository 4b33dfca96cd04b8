"""The demo's webhook receiver: prints each notification exwatch posts, as a chat room would show it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from aiohttp import web


def webhook_routes(say: Callable[[str], None]) -> Iterator[web.RouteDef]:
    """``POST /_demo/webhook``: one console line per notification received."""

    async def receive(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        incident = body.get("incident") or {}
        title = (incident.get("title") or {}).get("en") or ""
        severity = incident.get("severity") or "-"
        say(f"  webhook ← {body.get('kind')}: [{severity}] {title}")
        return web.json_response({"ok": True})

    yield web.post("/_demo/webhook", receive)
