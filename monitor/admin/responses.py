"""The error answers the HTTP API documents (OpenAPI ``responses=``) and their bodies.

Two shapes exist. Raised ``HTTPException``s answer ``{"detail": "..."}``, and a 422 lists each
bad field's path and message: ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``
(FastAPI's own validation answer). Routes that answer for themselves say ``{"error": "..."}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PAGE = {"text/html": {"schema": {"type": "string"}}}

WHY = {
    400: "The request cannot be read",
    401: "No token, or a wrong, expired or revoked one",
    403: "The token's role is too weak for this route",
    404: "No such id",
    409: "The change conflicts with the current state; the message says why",
    413: "The body is too large",
    415: "The body is not of a media type this route reads",
    422: "A field is invalid; the answer names it",
    429: "Too many attempts from this client; retry after Retry-After seconds",
    503: "The service cannot answer now (database down, or switched off); retry later",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}}


class Detail(BaseModel):
    """A refusal raised by a route: ``{"detail": "..."}``."""

    detail: str


class ErrorOut(BaseModel):
    """A refusal a route answers itself: ``{"error": "..."}``."""

    error: str


class Busy(BaseModel):
    """Too many requests from this client (or from everyone): wait ``retry_after`` seconds."""

    error: str
    retry_after: int


class Done(BaseModel):
    """The change was made."""

    ok: bool


def responses(model: type[BaseModel], *statuses: int, page: bool = False) -> Responses:
    """Document ``statuses`` as answered with ``model``'s body (429 with Retry-After).

    ``page``: a browser's form post gets an HTML page instead.
    """
    documented: Responses = {}
    for status in statuses:
        documented[status] = {"model": model, "description": WHY[status]}
        if status == 429:
            documented[status]["headers"] = RETRY_AFTER
        if page:
            documented[status]["content"] = PAGE
    return documented


def request_body(model: type[BaseModel], *media_types: str) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its body itself, in the shape ``model`` gives."""
    schema = _inlined(model.model_json_schema(by_alias=True))
    content = {media_type: {"schema": schema} for media_type in media_types or (JSON,)}
    return {"requestBody": {"required": True, "content": content}}


def _inlined(schema: dict[str, Any]) -> Any:
    """Return ``schema`` with its ``$defs`` references replaced by what they name."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return resolve(defs[reference.removeprefix("#/$defs/")])
        return {key: resolve(value) for key, value in node.items()}

    return resolve(schema)


GUARDED = responses(Detail, 401, 403, 429, 503)
"""What the bearer-token guard of the admin API answers before the route runs."""
UNREADABLE = responses(Detail, 400)
"""A JSON body that cannot be decoded (not UTF-8): FastAPI refuses it before the route runs."""
UNAVAILABLE: Responses = {503: {"model": Detail | ErrorOut, "description": WHY[503]}}
"""A 503 from the guard (``detail``) or from a route that answers itself (``error``)."""


def invalid(location: str, field: str | None, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own, naming ``field`` of ``location`` (``body``, ``query``)."""
    loc = [location] if field is None else [location, field]
    return HTTPException(422, [{"loc": loc, "msg": message, "type": "value_error"}])
