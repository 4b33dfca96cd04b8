"""The one-click acknowledge link of a page: GET shows what it will do, POST acknowledges.

The link's GET never changes anything (mail scanners open links); the page it shows has one
button that posts the same token. The ack is recorded as the paged recipient's.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from monitor.ack_links import ACK_PATH, AckClaim, AckLinks
from monitor.clock import Clock
from monitor.responder import ActionRefusedError, Responder

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><main class="wrap ack"><h1>{title}</h1>{body}</main></body></html>"""


def build_ack_router(links: AckLinks, responder: Responder, clock: Clock) -> APIRouter:
    """Return the router answering ``/ack``."""
    router = APIRouter(include_in_schema=False)

    @router.get(ACK_PATH)
    async def ack_page(token: str = "") -> HTMLResponse:
        claim = links.verify(token, clock.now())
        if not isinstance(claim, AckClaim):
            return _page("Acknowledge link", f"<p>{escape(claim)}</p>", status=400)
        form = (
            f"<p>Acknowledge incident #{claim.incident_id} as <b>{escape(claim.who)}</b>? "
            "Escalation stops for this incident.</p>"
            f'<form method="post" action="{ACK_PATH}?token={escape(token)}">'
            "<button type=submit>Acknowledge / 確認しました</button></form>"
        )
        return _page(f"Incident #{claim.incident_id}", form)

    @router.post(ACK_PATH)
    async def acknowledge(request: Request) -> HTMLResponse:
        claim = links.verify(request.query_params.get("token", ""), clock.now())
        if not isinstance(claim, AckClaim):
            return _page("Acknowledge link", f"<p>{escape(claim)}</p>", status=400)
        try:
            await responder.acknowledge(
                claim.incident_id, clock.now(), actor=f"ack link: {claim.who}"
            )
        except ActionRefusedError as refused:
            return _page(
                f"Incident #{claim.incident_id}",
                f"<p>{escape(refused.message)}</p>",
                status=refused.status,
            )
        body = (
            f"<p>Acknowledged as <b>{escape(_shown(claim.who))}</b>. Escalation has stopped.</p>"
            "<p lang=ja>確認済みにしました。エスカレーションは止まりました。</p>"
        )
        return _page(f"Incident #{claim.incident_id} acknowledged", body)

    return router


def _shown(who: str) -> str:
    """The paged recipient as a person reads it: the address, not the channel's key."""
    return who.partition(":")[2] or who


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status)
