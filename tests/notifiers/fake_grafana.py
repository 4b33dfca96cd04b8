"""A fake Grafana annotations API on loopback: ``POST /api/annotations`` and ``PATCH …/{id}``.

An aiohttp app (the channel's client is async, so the fake runs in the test's loop). It checks
the bearer token like Grafana (401 otherwise), keeps the annotations it was given, answers a
PATCH of an unknown id with 404, and records every request. ``fail_next`` scripts answers.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from aiohttp import web

from monitor.notices import ComponentRef, IncidentInfo, Kind, Notice, Text
from notifiers.channel import Delivery, Recipient

TOKEN = "glsa_test-token"


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """A scripted answer: status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def too_many(retry_after: int) -> Answer:
    """A 429 asking to wait ``retry_after`` seconds."""
    return Answer(429, {"message": "too many requests"}, {"Retry-After": str(retry_after)})


class FakeGrafana:
    """The server; use as an async context manager. ``url`` goes into ``grafana.url``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.requests: list[Recorded] = []
        self.annotations: dict[int, dict[str, Any]] = {}
        self._scripted: deque[Answer] = deque()
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/grafana/api/annotations", self._create)
        app.router.add_patch("/grafana/api/annotations/{id}", self._patch)
        self._runner = web.AppRunner(app, access_log=None)
        self.url = ""

    def fail_next(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers``, in order."""
        self._scripted.extend(answers)

    async def __aenter__(self) -> FakeGrafana:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/grafana"  # served under a path, as behind a proxy
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._runner.cleanup()

    async def _record(self, request: web.Request) -> Answer | None:
        """Record the request; return a scripted or authentication answer, if any."""
        body = json.loads(await request.read() or b"{}")
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.method, request.path, headers, body))
        if self._scripted:
            return self._scripted.popleft()
        if headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"message": "invalid API key"})
        return None

    async def _create(self, request: web.Request) -> web.Response:
        answer = await self._record(request)
        if answer is None:
            annotation_id = next(self._ids)
            self.annotations[annotation_id] = dict(self.requests[-1].body)
            answer = Answer(200, {"message": "Annotation added", "id": annotation_id})
        return _respond(answer)

    async def _patch(self, request: web.Request) -> web.Response:
        answer = await self._record(request)
        if answer is None:
            annotation_id = int(request.match_info["id"])
            if annotation_id not in self.annotations:
                answer = Answer(404, {"message": "Could not find annotation to update"})
            else:
                self.annotations[annotation_id].update(self.requests[-1].body)
                answer = Answer(200, {"message": "Annotation patched"})
        return _respond(answer)


def _respond(answer: Answer) -> web.Response:
    return web.json_response(answer.body, status=answer.status, headers=answer.headers)


# What the channel tests send: notices and deliveries built directly, no database.

STARTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RESOLVED = datetime(2026, 11, 20, 9, 42, 30, 250_000, tzinfo=UTC)
INCIDENT_URL = "https://status.example.com/incidents/7"
TITLE = Text("約定遅延", "Order matching delayed")
COMPONENTS = (
    ComponentRef("trading-engine", Text("取引エンジン", "Trading engine")),
    ComponentRef("btc-withdrawals", Text("BTC出金", "BTC withdrawals")),
)


def incident_notice(
    kind: Kind = "incident_opened",
    *,
    severity: str = "critical",
    resolved_at: datetime | None = None,
    title: Text = TITLE,
) -> Notice:
    """A notice about incident 7 on two components."""
    incident = IncidentInfo(
        id=7, title=title, severity=severity,
        status="resolved" if resolved_at else "investigating", severity_reason="",
        components=COMPONENTS, url=INCIDENT_URL, started_at=STARTED, resolved_at=resolved_at,
    )  # fmt: skip
    return Notice(
        event_id=1, kind=kind, at=resolved_at or STARTED, body=Text("", ""),
        site_name="Example Exchange", site_url="https://status.example.com", incident=incident,
    )  # fmt: skip


def delivery_of(notice: Notice, thread: tuple[str, ...] = ()) -> Delivery:
    """The Grafana delivery of ``notice``, after the annotation ids in ``thread``."""
    recipient = Recipient("grafana:annotations", "annotations", None)
    return Delivery(
        id=notice.event_id, channel="grafana", recipient=recipient, notice=notice, attempt=1,
        thread=thread,
    )  # fmt: skip
