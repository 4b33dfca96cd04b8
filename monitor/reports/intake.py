"""Reading a report from a request: JSON or an HTML form post, size-capped, cleaned, validated.

Every problem becomes a ``Problem`` that names the field at fault, so the sender gets a clear
4xx and never a traceback.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.reports.desk import Report

MAX_BODY_BYTES = 32 * 1024  # 2,000 Japanese characters percent-encoded are about 18 KiB
MAX_FORM_FIELDS = 20
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_HINTS = {
    "component": "the id of a component on the status page",
    "body": "what is wrong, 1 to 2000 characters",
    "contact": "optional, at most 200 characters",
}


class ReportFields(BaseModel):
    """A report as sent; unknown fields (the form's button, ``next``) are ignored."""

    model_config = ConfigDict(extra="ignore")

    component: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=2000)
    contact: str | None = Field(default=None, max_length=200)

    @field_validator("component", "body", "contact", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL; surrounding blanks are never meant.
        return value.replace("\0", "").strip() if isinstance(value, str) else value

    @field_validator("contact", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a report was not taken: an HTTP status, the field at fault and a sentence."""

    status: int
    field: str
    message: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Submission:
    """A valid report, and where to send a browser afterwards (for a form post)."""

    report: Report
    next_path: str = "/"


def is_form(request: Request) -> bool:
    """Return True for an HTML form post (the answer is then a page or a redirect)."""
    return _media_type(request) == FORM


async def read_submission(request: Request, components: Collection[str]) -> Submission | Problem:
    """Return the report in ``request``, or the problem with it."""
    media_type = _media_type(request)
    if media_type not in (FORM, JSON) and not media_type.endswith("+json"):
        sent = media_type or "no content type"
        return Problem(415, "content-type", f"send {JSON} or {FORM}, not {sent}")
    raw = await read_capped(request, MAX_BODY_BYTES)
    if raw is None:
        return Problem(413, "request body", f"a report is at most {MAX_BODY_BYTES} bytes")
    data = _parse_form(raw) if media_type == FORM else _parse_json(raw)
    if isinstance(data, Problem):
        return data
    try:
        fields = ReportFields.model_validate(data)
    except ValidationError as error:
        return _field_problem(error)
    if (problem := component_problem(fields.component, components)) is not None:
        return problem
    report = Report(fields.component, fields.body, fields.contact)
    return Submission(report, local_path(data.get("next")))


async def read_capped(request: Request, limit: int) -> bytes | None:
    """Return the request body, or None once it exceeds ``limit`` bytes (never read further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def component_problem(component: str, components: Collection[str]) -> Problem | None:
    """Return a 422 naming ``component`` if it is not a known component id."""
    if component in components:
        return None
    close = difflib.get_close_matches(component, list(components), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(components)})"
    return Problem(
        422, "component", f"unknown component {component!r}{hint}", {"valid": sorted(components)}
    )


def local_path(value: object) -> str:
    """Return ``value`` if it is a path on this site (never another site), else ``/``."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 300:
        return "/"
    if value.startswith("//") or "\\" in value or any(ord(c) < 0x20 for c in value):
        return "/"  # "//host" and "/\host" are other sites to a browser
    return value.split("#", 1)[0]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _parse_form(raw: bytes) -> dict[str, Any] | Problem:
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except ValueError:  # not UTF-8, or too many fields
        return Problem(400, "request body", "not a UTF-8 form of at most 20 fields")
    return dict(pairs)


def _parse_json(raw: bytes) -> dict[str, Any] | Problem:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return Problem(400, "request body", "not valid JSON")
    if not isinstance(data, dict):
        return Problem(422, "request body", "expected a JSON object with component and body")
    return data


def _field_problem(error: ValidationError) -> Problem:
    first = error.errors(include_input=False, include_url=False)[0]
    name = ".".join(str(part) for part in first["loc"]) or "request body"
    hint = _HINTS.get(name)
    message = f"{name}: {first['msg']}" + (f" ({hint})" if hint else "")
    return Problem(422, name, message)
