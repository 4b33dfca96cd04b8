"""One tweepy client per X account: OAuth 1.0a user context from the environment, and the API
host rewritten to ``x.api_base_url``.

Why tweepy's synchronous ``Client`` (called through ``asyncio.to_thread`` by the channel) and not
``tweepy.asynchronous.AsyncClient``: ``Client`` sends every request through its own
``requests.Session`` (``client.session``), on which a transport adapter can be mounted for
``https://api.twitter.com/`` that rewrites the URL to the configured base — a supported requests
extension point, and the one place where a timeout can be enforced too (tweepy sets none).
``AsyncClient`` hard-codes ``"https://api.twitter.com" + route`` in ``request`` and signs that
URL with oauthlib before calling aiohttp, which has no per-prefix adapters: rewriting it would mean
overriding tweepy internals; it also needs the extra ``async-lru`` and ``async-oauthlib``
packages. X posts are few (one per update per account), so a worker thread per send is cheap.

The URL is rewritten after OAuth signing, so the signature stays the one for api.twitter.com:
what a forwarding gateway needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

X_API = "https://api.twitter.com"
"""The host tweepy sends every request to."""

CREDENTIALS = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
"""The suffixes of the four environment variables holding an account's OAuth 1.0a keys."""

DEFAULT_TIMEOUT = (10.0, 30.0)
"""Seconds to connect, and to wait for the answer, when tweepy gives no timeout (it never does)."""


class MissingCredentialError(ValueError):
    """An environment variable holding an X account's key is missing or empty."""


class RewritingAdapter(HTTPAdapter):
    """Sends requests meant for ``X_API`` to ``base_url`` instead, with a timeout."""

    def __init__(self, base_url: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Rewrite the request's URL, then send it."""
        url = request.url or ""
        if url.startswith(X_API) and self.base_url != X_API:
            request.url = self.base_url + url[len(X_API) :]
            kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def credentials(prefix: str, env: Mapping[str, str]) -> dict[str, str]:
    """The account's four keys from ``<prefix>_CONSUMER_KEY`` etc.; a missing one is named."""
    keys: dict[str, str] = {}
    for suffix in CREDENTIALS:
        name = f"{prefix}_{suffix}"
        value = env.get(name, "")
        if not value:
            raise MissingCredentialError(f"X credentials: environment variable {name} is not set")
        keys[suffix.lower()] = value
    return keys


def make_client(prefix: str, env: Mapping[str, str], base_url: str) -> Any:
    """A tweepy Client for one account, answering dicts, never sleeping on rate limits."""
    client = tweepy.Client(**credentials(prefix, env), return_type=dict, wait_on_rate_limit=False)
    client.session.mount(X_API + "/", RewritingAdapter(base_url))
    return client
