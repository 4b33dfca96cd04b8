"""Reading subscription requests: an HTML form post or JSON, size-capped, each field checked.

Every problem becomes a ``Problem`` naming the field at fault and a message key (the page says
it in the visitor's language; JSON carries the English detail too), never a traceback.

``components`` is a list of component ids, or ``all`` (every component, including ones added
later). A form sends one ``components`` field per ticked box; a box with the value ``all`` wins.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from monitor.reports.intake import read_capped
from monitor.subscriptions.normalisation import AddressError, normalise_address
from monitor.subscriptions.service import Choice

MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 300
MAX_TOKEN_FIELD = 300
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON = "application/json"
ALL = "all"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a request was not taken: status, field, message key, and an English detail."""

    status: int
    field: str
    key: str
    detail: str


@dataclass(frozen=True, slots=True)
class SubscribeForm:
    """A valid subscription request."""

    address: str
    choice: Choice


@dataclass(frozen=True, slots=True)
class ManageForm:
    """A valid change of preferences, with the manage token that allows it."""

    token: str
    choice: Choice


Fields = dict[str, list[Any]]


def media_type(request: Request) -> str:
    """Return the request's media type, lower-case, without parameters."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def wants_json(request: Request) -> bool:
    """Return True when the sender posts JSON (the answer is then JSON, not a page)."""
    kind = media_type(request)
    return kind == JSON or kind.endswith("+json")


async def read_fields(request: Request) -> Fields | Problem:
    """Return the posted fields as lists of values (a JSON list becomes the values of its key)."""
    kind = media_type(request)
    if kind not in (FORM, MULTIPART) and not wants_json(request):
        sent = kind or "no content type"
        return Problem(415, "content-type", "subscribe.error.content_type", f"not {sent}")
    raw = await read_capped(request, MAX_BODY_BYTES)
    if raw is None:
        return Problem(413, "request body", "subscribe.error.too_large", "body too large")
    if kind == MULTIPART:
        return {}  # only RFC 8058 one-click posts: the token is in the URL, the body says nothing
    return _parse_form(raw) if kind == FORM else _parse_json(raw)


def subscribe_form(
    fields: Fields, *, languages: Collection[str], components: Collection[str]
) -> SubscribeForm | Problem:
    """Return the subscription request in ``fields``, or the first problem with it."""
    email = _single(fields, "email")
    if not isinstance(email, str):
        return Problem(422, "email", "subscribe.error.email", "email: enter an email address")
    try:
        address = normalise_address(email)
    except AddressError as error:
        return Problem(422, "email", "subscribe.error.email", f"email: {error}")
    choice = read_choice(fields, languages=languages, components=components)
    return choice if isinstance(choice, Problem) else SubscribeForm(address, choice)


def manage_form(
    fields: Fields, *, languages: Collection[str], components: Collection[str]
) -> ManageForm | Problem:
    """Return the change of preferences in ``fields``, or the first problem with it."""
    token = token_field(fields)
    if token is None:
        return Problem(400, "token", "subscribe.invalid.heading", "token: missing")
    choice = read_choice(fields, languages=languages, components=components)
    return choice if isinstance(choice, Problem) else ManageForm(token, choice)


def token_field(fields: Fields) -> str | None:
    """Return the ``token`` field if there is one that could be a token."""
    token = _single(fields, "token")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_FIELD:
        return None
    return token


def read_choice(
    fields: Fields, *, languages: Collection[str], components: Collection[str]
) -> Choice | Problem:
    """Return the language and components in ``fields``, or the problem with them."""
    language = _single(fields, "language")
    if language not in languages:
        offered = " or ".join(languages)
        return Problem(422, "language", "subscribe.error.language", f"language: one of {offered}")
    chosen = _components(fields.get("components", []), components)
    if isinstance(chosen, Problem):
        return chosen
    return Choice(str(language), chosen)


def _components(values: list[Any], known: Collection[str]) -> tuple[str, ...] | Problem | None:
    if ALL in values:
        return None
    if not values:
        return Problem(
            422, "components", "subscribe.error.components_empty",
            "components: choose at least one component, or all",
        )  # fmt: skip
    unknown = [v for v in values if not isinstance(v, str) or v not in known]
    if unknown:
        return Problem(
            422, "components", "subscribe.error.components_unknown",
            f"components: unknown component {str(unknown[0])[:64]!r} (known: {', '.join(known)})",
        )  # fmt: skip
    return tuple(sorted(set(values)))


def _single(fields: Fields, name: str) -> Any:
    values = fields.get(name)
    return values[-1] if values else None


def _parse_form(raw: bytes) -> Fields | Problem:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:  # not UTF-8, or too many fields
        return Problem(400, "request body", "subscribe.error.body", "not a UTF-8 form")
    fields: Fields = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value.replace("\0", ""))
    return fields


def _parse_json(raw: bytes) -> Fields | Problem:
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return Problem(400, "request body", "subscribe.error.body", "not valid JSON")
    if not isinstance(data, dict):
        return Problem(400, "request body", "subscribe.error.body", "expected a JSON object")
    fields: Fields = {}
    for name, value in data.items():
        if name == "components" and isinstance(value, list):
            fields[name] = value
        else:
            fields[name] = [value]
    return fields
