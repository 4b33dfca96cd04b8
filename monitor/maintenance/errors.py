"""Why a maintenance request cannot be carried out: unknown ids, conflicts and bad input."""

from __future__ import annotations


class MaintenanceError(Exception):
    """A request about maintenance that cannot be carried out; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(MaintenanceError):
    """No window or series has that id (HTTP 404)."""


class ConflictError(MaintenanceError):
    """The window's current state does not allow the change (HTTP 409)."""


class InvalidFieldError(MaintenanceError):
    """A field of the request has a value that cannot be used (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
