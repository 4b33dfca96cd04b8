"""A fake X API on loopback: ``POST /2/tweets``, recording each request, with scripted failures.

It runs an ``http.server`` in a thread (tweepy's client is synchronous and runs in worker
threads). Tell it what to answer next with ``fail_next``; otherwise it creates a post and answers
``{"data": {"id": ..., "text": ...}}`` like X does.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from monitor.notices import ComponentRef, IncidentInfo, Kind, Notice, Text
from notifiers.channel import Delivery, Recipient

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """The post's text."""
        return str(self.body.get("text", ""))

    @property
    def in_reply_to(self) -> str | None:
        """``reply.in_reply_to_tweet_id``, if the post is a reply."""
        reply = self.body.get("reply") or {}
        return reply.get("in_reply_to_tweet_id")

    @property
    def oauth_signed(self) -> bool:
        """Whether it carried an OAuth 1.0a Authorization header."""
        return self.headers.get("authorization", "").startswith("OAuth ")


@dataclass(frozen=True)
class Answer:
    """A scripted answer: status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(reset_epoch: int) -> Answer:
    """A 429 with ``x-rate-limit-reset``."""
    return Answer(
        429,
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        {"x-rate-limit-reset": str(reset_epoch), "x-rate-limit-remaining": "0"},
    )


def duplicate() -> Answer:
    """X's 403 for a post identical to a recent one (API v2 problem format)."""
    return Answer(403, {"title": "Forbidden", "detail": DUPLICATE_DETAIL, "status": 403})


def unavailable() -> Answer:
    """A 503."""
    return Answer(503, {"title": "Service Unavailable", "status": 503})


class FakeXApi:
    """The server; use as a context manager. ``base_url`` goes into ``x.api_base_url``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.posts: dict[str, str] = {}
        self._scripted: deque[Answer] = deque()
        self._ids = itertools.count(1_800_000_000_000_000_001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers``, in order."""
        with self._lock:
            self._scripted.extend(answers)

    def __enter__(self) -> FakeXApi:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, recorded: Recorded) -> Answer:
        """Record the request and pick the answer."""
        with self._lock:
            self.requests.append(recorded)
            if self._scripted:
                return self._scripted.popleft()
            if recorded.method != "POST" or recorded.path != "/2/tweets":
                return Answer(404, {"title": "Not Found", "status": 404})
            tweet_id = str(next(self._ids))
            self.posts[tweet_id] = recorded.text
            return Answer(201, {"data": {"id": tweet_id, "text": recorded.text}})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """A request handler class bound to this fake."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length) if length else b"{}"
                headers = {k.lower(): v for k, v in self.headers.items()}
                recorded = Recorded("POST", self.path, headers, json.loads(raw or b"{}"))
                self._send(fake._answer(recorded))

            def _send(self, answer: Answer) -> None:
                payload = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

        return Handler


# What the tests post: notices and deliveries built directly, no database.

INCIDENT_URL = "https://status.example.com/incidents/7"
ENGINE = ComponentRef("trading-engine", Text("取引エンジン", "Trading engine"))
BODY = Text("調査中です。", "We are investigating.")
TITLE = Text("大規模障害", "Major outage")


def incident_notice(
    body: Text = BODY,
    *,
    kind: Kind = "incident_opened",
    status: str = "investigating",
    event_id: int = 1,
    title: Text = TITLE,
) -> Notice:
    """A notice about incident 7 on the trading engine."""
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    incident = IncidentInfo(
        id=7, title=title, severity="critical", status=status, severity_reason="",
        components=(ENGINE,), url=INCIDENT_URL, started_at=at,
    )  # fmt: skip
    return Notice(
        event_id=event_id, kind=kind, at=at, body=body, site_name="Example Exchange",
        site_url="https://status.example.com", incident=incident, update_status=status,
    )  # fmt: skip


def delivery_to(account: str, notice: Notice, thread: tuple[str, ...] = ()) -> Delivery:
    """The delivery of ``notice`` to the X account named ``account``."""
    recipient = Recipient(key=f"account:{account}", address=account, language=None)
    return Delivery(
        id=notice.event_id, channel="x", recipient=recipient, notice=notice, attempt=1,
        thread=thread,
    )  # fmt: skip
