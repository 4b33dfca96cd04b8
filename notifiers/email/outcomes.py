"""What a failed send means: try again later (retryable) or never (permanent).

Replies to the message itself decide by their code: 4xx is temporary, 5xx is final. Failing to
reach, greet, secure or log in to the server (the pool's ConnectFailedError) says nothing about
the message, so it is retryable; so are timeouts and dropped connections.
"""

from __future__ import annotations

from aiosmtplib import (
    SMTPException,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from notifiers.channel import SendOutcome


def outcome_for(error: Exception) -> SendOutcome:
    """Classify an exception raised while sending one message."""
    if isinstance(error, SMTPRecipientsRefused) and error.recipients:
        return _by_code(error.recipients[0])
    if isinstance(error, SMTPHeloError):
        return SendOutcome.retryable(describe(error))
    if isinstance(error, SMTPResponseException):
        return _by_code(error)
    if isinstance(error, SMTPNotSupported | ValueError):
        return SendOutcome.permanent(describe(error))
    if isinstance(error, SMTPException | OSError | TimeoutError):
        return SendOutcome.retryable(describe(error))
    return SendOutcome.retryable(f"unexpected {describe(error)}")


def _by_code(error: SMTPResponseException) -> SendOutcome:
    reason = f"{error.code} {error.message}".strip()
    if 500 <= error.code < 600:
        return SendOutcome.permanent(reason)
    return SendOutcome.retryable(reason)


def describe(error: BaseException) -> str:
    """Return the error's class and message, for a reason or a log line."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
