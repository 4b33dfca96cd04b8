"""The audit middleware: every authenticated write under ``/api/admin`` and ``/console`` is recorded.

It records who (the guard's ``Identity``), what (the route template and a summary of the
change: path parameters and the JSON or form body with secrets redacted, at most ~1 kB), when, from
where, and the answer's status. Unauthenticated attempts are not recorded (they are counted by
the guard's failure limit instead), so strangers cannot fill the log.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.admin.auth import IDENTITY, Identity
from monitor.admin.tokens import TOKEN_PREFIX
from monitor.clock import Clock
from monitor.storage.audit import AuditEntry, record_audit
from monitor.storage.database import Database

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_SUMMARY = 1000
MAX_CAPTURE = 64 * 1024  # the body is summarised from at most this much
REDACTED = "[redacted]"
# Secrets, and personal data: an erased subscriber's address must not live on in the audit log.
_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|key|authorization|cookie|address|email", re.IGNORECASE
)
_TOKEN_TEXT = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]+")


class AuditMiddleware:
    """ASGI middleware writing one audit row per authenticated write under ``prefix``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        database: Database,
        clock: Clock,
        secrets: tuple[str, ...] = (),
        prefixes: tuple[str, ...] = ("/api/admin", "/console"),
        client_address: Callable[[Scope], str] | None = None,
    ) -> None:
        self.app, self._database, self._clock, self._prefixes = app, database, clock, prefixes
        self._client_address = client_address or _peer
        self._secrets = tuple(s for s in secrets if s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, then record it if it was an authenticated write."""
        if not self._audited(scope):
            await self.app(scope, receive, send)
            return
        body, status = bytearray(), [500]
        state = scope.setdefault("state", {})

        async def tapped_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_CAPTURE:
                body.extend(message.get("body", b""))
            return message

        async def tapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, tapped_receive, tapped_send)
        finally:
            identity = state.get(IDENTITY)
            if isinstance(identity, Identity):
                summary = summarise(scope, bytes(body), self._secrets)
                await self._record(scope, identity, summary, status[0])

    def _audited(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] in WRITES
            and str(scope["path"]).startswith(self._prefixes)
        )

    async def _record(self, scope: Scope, identity: Identity, summary: str, status: int) -> None:
        route = scope.get("route")
        client = self._client_address(scope)
        entry = AuditEntry(
            at=self._clock.now(), actor=identity.actor, role=identity.role,
            method=scope["method"], route=str(getattr(route, "path", scope["path"]))[:300],
            summary=summary, client=client[:100] or None, status=status,
        )  # fmt: skip
        try:
            async with self._database.transaction() as session:
                await record_audit(session=session, entry=entry)
        except (SQLAlchemyError, OSError) as error:
            log.error("audit entry for %s %s not written: %s", entry.method, entry.route, error)


def summarise(scope: Scope, body: bytes, secrets: tuple[str, ...] = ()) -> str:
    """The change in a write: path parameters and the JSON body, secrets redacted, ≤ ~1 kB."""
    document: dict[str, Any] = {}
    if params := scope.get("path_params"):
        document["path"] = redact(params)
    if body:
        document["body"] = redact(_parsed(body, _is_form(scope)))
    text = json.dumps(document, ensure_ascii=False, default=str)
    for secret in secrets:  # the operator's token pasted into a free-text field
        text = text.replace(secret, REDACTED)
    # A lone surrogate ("\ud800" in JSON) cannot be stored as UTF-8: the entry keeps a "?".
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def _peer(scope: Scope) -> str:
    """The direct peer's address (no proxy is trusted)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def _is_form(scope: Scope) -> bool:
    kind: bytes = dict(scope.get("headers") or ()).get(b"content-type", b"")
    return kind.split(b";")[0].strip().lower() == b"application/x-www-form-urlencoded"


def _parsed(body: bytes, form: bool) -> Any:
    """The body as a url-encoded form (the console's posts) or as JSON, else its size."""
    try:
        if form:
            text = body.decode("utf-8")
            return dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return f"<{len(body)} bytes, not {'a form' if form else 'JSON'}>"


def redact(value: Any) -> Any:
    """``value`` with secret-named fields and token-shaped strings replaced by ``[redacted]``."""
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _TOKEN_TEXT.sub(REDACTED, value)
    return value
