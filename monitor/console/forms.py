"""Reading the console's form posts: url-encoded bodies, bounded, with their CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_BODY = 128 * 1024  # a postmortem is the largest field (50,000 characters, UTF-8)
MAX_FIELDS = 200
FORM_TYPE = "application/x-www-form-urlencoded"


class FormError(Exception):
    """A post the console cannot read; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True, slots=True)
class Form:
    """The fields of one post, in order; a field may repeat (checkboxes)."""

    pairs: tuple[tuple[str, str], ...]

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``, stripped, or ``default``."""
        for key, value in self.pairs:
            if key == name:
                return value.strip()
        return default

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return [value for key, value in self.pairs if key == name]

    def optional(self, name: str) -> str | None:
        """The value of ``name``, or None when it is missing or blank."""
        return self.get(name) or None


async def read_form(request: Request) -> Form:
    """Parse the request's url-encoded body; raise FormError on anything else."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise FormError(415, f"the console accepts {FORM_TYPE} posts only")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            raise FormError(413, f"the form is larger than {MAX_BODY // 1024} kB")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
            errors="strict",
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "the form could not be read (not UTF-8, or too many fields)") from None
    return Form(tuple((key, value.replace("\x00", "")) for key, value in pairs))
