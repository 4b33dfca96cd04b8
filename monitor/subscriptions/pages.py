"""The subscription pages: Jinja2 templates and words handed in by the wiring, rendered per request.

monitor never imports statuspage (the import contract): ``monitor.app`` builds this from
``statuspage``'s templates (``subscribe_*.html``), its ``messages_subscribe.MESSAGES`` and its
``choose_language``. These pages are small, private to a token holder and rare, so they are
rendered per request, unlike the public page. They never show an address.

Every page is sent with ``Cache-Control: no-store`` (tokens must not sit in caches) and
``Referrer-Policy: no-referrer`` (a token in the URL must not leak to another site); the app's
security headers (``monitor.security``) add a strict Content-Security-Policy with
``frame-ancestors 'none'`` (the one-button unsubscribe page cannot be framed and clicked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import BaseLoader, Environment, StrictUndefined, select_autoescape

from monitor.subscriptions.service import SubscriptionService

ChooseLanguage = Callable[[str | None, str | None, Sequence[str]], str]
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}


class SubscribePages:
    """Renders the subscription pages in the visitor's language."""

    def __init__(
        self,
        loader: BaseLoader,
        messages: Mapping[str, Mapping[str, str]],
        choose_language: ChooseLanguage,
    ) -> None:
        self._environment = Environment(
            loader=loader,
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._messages = messages
        self.choose_language = choose_language

    def message(self, key: str, language: str, **values: object) -> str:
        """Return the message ``key`` in ``language`` (English if it has none) filled in."""
        texts = self._messages[key]
        text = texts.get(language) or texts["en"]
        return text.format(**values) if values else text

    def render(
        self,
        template: str,
        *,
        service: SubscriptionService,
        language: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Return ``template`` rendered in ``language`` as a private HTML response."""
        body = self._environment.get_template(template).render(
            lang=language,
            site_name=service.site_name,
            languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in service.languages],
            other_languages=[code for code in service.languages if code != language],
            language_names=LANGUAGE_NAMES,
            t=lambda key, **values: self.message(key, language, **values),
            name_of=lambda names: names.get(language) or names["en"],
            **context,
        )
        return HTMLResponse(
            body, status_code=status, headers={**PRIVATE_HEADERS, **(headers or {})}
        )
