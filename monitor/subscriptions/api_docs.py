"""What the subscription routes take and answer, as OpenAPI documents it (``router``).

The public routes read JSON or an HTML form themselves: JSON gets JSON, a form post a page or
a redirect. Their bodies are documented here for clients and for the schema's tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from monitor.admin.responses import (
    FORM,
    GUARDED,
    JSON,
    PAGE,
    Busy,
    ErrorOut,
    request_body,
    responses,
)

Components = list[str] | Literal["all"]


class SubscribeIn(BaseModel):
    """An address, the language of the mails, and the components (ids, or ``all``)."""

    email: str
    language: str = Field(examples=["ja", "en"])
    components: Components


class ManageIn(BaseModel):
    """New preferences, allowed by the manage token of the mails."""

    token: str
    language: str = Field(examples=["ja", "en"])
    components: Components


class UnsubscribeIn(BaseModel):
    """The manage token, unless the URL carries it (RFC 8058 one-click posts)."""

    token: str | None = None


class Requested(BaseModel):
    """A confirmation mail is on its way (the same answer whatever the address)."""

    status: str


class SubscriptionOut(BaseModel):
    """A subscription's state and preferences."""

    state: str
    language: str
    components: Components


class SubscribeProblem(BaseModel):
    """Why the request was not taken, and the field at fault."""

    error: str
    field: str


class SubscriberOut(BaseModel):
    """A subscriber as the admin API shows it (address included: for erasure on request)."""

    id: int
    address: str
    state: str
    language: str
    components: Components
    awaiting_confirmation: bool
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None


class SubscriberPage(BaseModel):
    """Counts per state and language, and subscribers after ``after`` (by id)."""

    counts: dict[str, dict[str, int]]
    states: list[str]
    subscribers: list[SubscriberOut]
    next_after: int | None


_REDIRECT = {303: {"description": "A form post: on to the next page"}}
_PROBLEMS = responses(SubscribeProblem, 400, 413, 415, 422, page=True)
SUBSCRIBE: dict[str, Any] = {
    "response_model": Requested,
    "openapi_extra": request_body(SubscribeIn, JSON, FORM),
    "responses": {**_REDIRECT, **_PROBLEMS, **responses(Busy, 429, page=True)},
}
MANAGE: dict[str, Any] = {
    "response_model": SubscriptionOut,
    "openapi_extra": request_body(ManageIn, JSON, FORM),
    "responses": {**_REDIRECT, **_PROBLEMS},
}
UNSUBSCRIBE: dict[str, Any] = {
    "response_model": SubscriptionOut,
    "openapi_extra": request_body(UnsubscribeIn, JSON, FORM),
    "responses": {200: {"content": PAGE}, **_PROBLEMS},
}
LIST: dict[str, Any] = {"response_model": SubscriberPage, "responses": GUARDED}
DELETE: dict[str, Any] = {"responses": {**GUARDED, **responses(ErrorOut, 404)}}
