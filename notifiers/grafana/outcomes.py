"""What Grafana's answers mean for a delivery.

2xx is done (a new annotation's id read from the body). 401 and 403 are permanent with a
message naming the variable that holds the token, since that is what to fix. Everything else
is read as any HTTP receiver's answer (``notifiers.webhook.responses.classify``): 408, 425,
429 and 5xx retryable after ``Retry-After``, other statuses permanent with the body's start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from notifiers.channel import SendOutcome
from notifiers.webhook.responses import classify, excerpt

AUTH_STATUSES = frozenset({401, 403})


def created_id(body: bytes) -> str | None:
    """The ``id`` in Grafana's answer to ``POST /api/annotations``, or None if there is none."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("id") if isinstance(document, dict) else None
    is_id = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return str(value) if is_id else None


def refused(
    status: int, headers: Mapping[str, str], body: bytes, now: float, *, token_env: str
) -> SendOutcome:
    """The outcome of a non-2xx answer; an authentication failure names ``token_env``."""
    if status == 401:
        return SendOutcome.permanent(
            f"Grafana rejected the API token in {token_env} (HTTP 401: {excerpt(body)}); "
            "set it to a valid service account token"
        )
    if status == 403:
        return SendOutcome.permanent(
            f"the Grafana token in {token_env} may not write annotations (HTTP 403: "
            f"{excerpt(body)}); give its service account the Editor role"
        )
    return classify(status, headers, body, now)
