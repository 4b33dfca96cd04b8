"""422 answers that can always be written: FastAPI's shape, with unencodable text replaced.

FastAPI's own handler echoes the offending input back; a lone surrogate ("\\ud800" in a JSON
string) cannot be encoded as UTF-8, so the answer itself failed with a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def install_validation_handler(app: FastAPI) -> None:
    """Answer invalid requests with 422 ``{"detail": [...]}`` whatever text they held."""

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return JSONResponse({"detail": encodable(jsonable_encoder(error.errors()))}, 422)

    app.add_exception_handler(RequestValidationError, invalid)


def encodable(value: Any) -> Any:
    """``value`` with every string made encodable as UTF-8 (lone surrogates become "?")."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [encodable(item) for item in value]
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    return value
