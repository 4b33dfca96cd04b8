"""HTTP routes of subscriptions: the public pages, the token-held pages, and the admin API.

Public (no login anywhere):

- ``GET /subscribe`` the form; ``POST /subscribe`` (form or JSON: ``email``, ``language``,
  ``components`` = ids or ``all``) answers the same whatever the address: a form post is sent
  to ``GET /subscribe/sent`` ("check your inbox"), JSON gets 202;
- ``GET /subscribe/confirm?token=`` confirms (again: the same page); a bad or expired link
  answers 400 with a page saying so and a way to subscribe again;
- ``GET /subscriptions/manage?token=`` the preferences form, ``POST /subscriptions/manage``;
- ``GET /unsubscribe?token=`` (and ``GET /subscriptions/unsubscribe?token=``) one button;
  ``POST /subscriptions/unsubscribe`` with the token in the URL or the body, which also takes
  RFC 8058's one-click post (``List-Unsubscribe=One-Click``, form or multipart).

Cross-site request forgery: the forms are public and unauthenticated on purpose. A forged
subscribe only sends a confirmation mail to the address (double opt-in: nothing changes until
its owner follows the link), within the per-client and per-address limits. On the manage and
unsubscribe forms the token is the capability: a page that does not hold it cannot forge them.

Admin (bearer ``EXWATCH_ADMIN_TOKEN``): ``GET /api/admin/subscribers`` (counts by state and
language, and a page of subscribers with their addresses), ``DELETE /api/admin/subscribers/{id}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from monitor.admin.auth import AccessGuard
from monitor.admin.tokens import ADMIN
from monitor.security.client_address import DIRECT, ClientAddress
from monitor.storage.subscribers import STATES, SubscriberRow
from monitor.subscriptions.api_docs import DELETE, LIST, MANAGE, SUBSCRIBE, UNSUBSCRIBE
from monitor.subscriptions.forms import (
    Problem,
    manage_form,
    read_fields,
    subscribe_form,
    token_field,
    wants_json,
)
from monitor.subscriptions.limits import Refused
from monitor.subscriptions.pages import SubscribePages
from monitor.subscriptions.service import (
    MANAGE_PATH,
    UNSUBSCRIBE_PATH,
    Subscription,
    SubscriptionService,
)
from monitor.subscriptions.tokens import Rejection

_BIGGEST_ID = 2**63 - 1
SubscriberId = Annotated[int, Path(ge=1, le=_BIGGEST_ID)]


class _Context:
    """One request's service, pages and language: the shortcuts every route uses."""

    def __init__(self, service: SubscriptionService, pages: SubscribePages, request: Request):
        self.service = service
        self.pages = pages
        self.request = request

    def language(self, preferred: str | None = None) -> str:
        """``?lang=``, else ``preferred`` (a subscriber's), else Accept-Language, else the first."""
        query = self.request.query_params.get("lang")
        offered = self.service.languages
        if preferred in offered and query not in offered:
            return str(preferred)
        return self.pages.choose_language(
            query, self.request.headers.get("accept-language"), offered
        )

    def page(self, template: str, language: str, **context: Any) -> Response:
        """Return a subscription page in ``language``."""
        return self.pages.render(
            template, service=self.service, language=language,
            switch_href=self._switch_href, **context,
        )  # fmt: skip

    def invalid(self, rejection: Rejection) -> Response:
        """Return 400 for a token that cannot be used: a page offering to subscribe again."""
        if wants_json(self.request):
            body = {"error": f"the token is {rejection.value}", "field": "token"}
            return JSONResponse(body, status_code=400)
        return self.page(
            "subscribe_invalid.html", self.language(), status=400, reason=rejection.value
        )

    def problem(self, problem: Problem, language: str) -> Response:
        """Return a 4xx naming the field: JSON for JSON, else a page."""
        if wants_json(self.request):
            body = {"error": problem.detail, "field": problem.field}
            return JSONResponse(body, status_code=problem.status)
        message = self.pages.message(problem.key, language)
        return self.page("subscribe_problem.html", language, status=problem.status, message=message)

    def refused(self, refused: Refused, language: str) -> Response:
        """Return 429 with Retry-After."""
        seconds = max(1, math.ceil(refused.retry_after))
        headers = {"Retry-After": str(seconds)}
        key, minutes = f"subscribe.limit.{refused.scope}", math.ceil(seconds / 60)
        if wants_json(self.request):
            body = {"error": self.pages.message(key, "en", minutes=minutes), "retry_after": seconds}
            return JSONResponse(body, status_code=429, headers=headers)
        message = self.pages.message(key, language, minutes=minutes)
        return self.page(
            "subscribe_problem.html", language, status=429, headers=headers, message=message
        )

    def choices(self, subscription: Subscription | None) -> dict[str, Any]:
        """The template values of the language and component choices."""
        if subscription is None:
            chosen_language, chosen_components = self.language(), None
        else:
            chosen_language = subscription.choice.language
            chosen_components = subscription.choice.components
        return {
            "sections": _sections(self.service),
            "chosen_language": chosen_language,
            "chosen_components": chosen_components,
        }

    def _switch_href(self, code: str) -> str:
        query = {**self.request.query_params, "lang": code}
        return f"{self.request.url.path}?{urlencode(query)}"


MakeContext = Callable[[Request], _Context]


def build_subscriptions_router(
    service: SubscriptionService,
    pages: SubscribePages,
    *,
    access: AccessGuard,
    client_address: ClientAddress = DIRECT,
) -> APIRouter:
    """Return the public, token-held and admin routes of subscriptions (requests limited per
    ``client_address``)."""
    router = APIRouter()

    def context(request: Request) -> _Context:
        return _Context(service, pages, request)

    _subscribe_routes(router, context, client_address)
    _confirm_routes(router, context)
    _manage_routes(router, context)
    _unsubscribe_routes(router, context)
    _admin_routes(router, service, access)
    return router


def _subscribe_routes(
    router: APIRouter, context: MakeContext, client_address: ClientAddress
) -> None:
    @router.get("/subscribe", include_in_schema=False)
    async def subscribe_page(request: Request) -> Response:
        ctx = context(request)
        return ctx.page("subscribe_form.html", ctx.language(), **ctx.choices(None))

    @router.post("/subscribe", status_code=202, summary="Subscribe to email updates", **SUBSCRIBE)
    async def subscribe(request: Request) -> Response:
        ctx = context(request)
        fields = await read_fields(ctx.request)
        if isinstance(fields, Problem):
            return ctx.problem(fields, ctx.language())
        chosen = fields.get("language", [None])[-1]
        language = ctx.language(chosen if isinstance(chosen, str) else None)
        form = subscribe_form(
            fields, languages=ctx.service.languages, components=ctx.service.component_ids
        )
        if isinstance(form, Problem):
            return ctx.problem(form, language)
        client = client_address(ctx.request)
        outcome = await ctx.service.subscribe(form.address, form.choice, client)
        if isinstance(outcome, Refused):
            return ctx.refused(outcome, language)
        if wants_json(ctx.request):
            return JSONResponse({"status": "confirmation_requested"}, status_code=202)
        return RedirectResponse(f"/subscribe/sent?lang={language}", status_code=303)

    @router.get("/subscribe/sent", include_in_schema=False)
    async def sent(request: Request) -> Response:
        ctx = context(request)
        hours = int(ctx.service.limits.confirm_ttl.total_seconds() // 3600)
        return ctx.page("subscribe_sent.html", ctx.language(), hours=hours)


def _confirm_routes(router: APIRouter, context: MakeContext) -> None:
    @router.get("/subscribe/confirm", include_in_schema=False)
    async def confirm(request: Request) -> Response:
        ctx = context(request)
        token = ctx.request.query_params.get("token", "")
        outcome = await ctx.service.confirm(token)
        if isinstance(outcome, Rejection):
            return ctx.invalid(outcome)
        return ctx.page(
            "subscribe_confirmed.html", ctx.language(outcome.choice.language),
            manage_href=_href(MANAGE_PATH, outcome.manage_token),
        )  # fmt: skip


def _manage_routes(router: APIRouter, context: MakeContext) -> None:
    @router.get(MANAGE_PATH, include_in_schema=False)
    async def manage_page(request: Request) -> Response:
        ctx = context(request)
        token = ctx.request.query_params.get("token", "")
        outcome = await ctx.service.subscription(token)
        if isinstance(outcome, Rejection):
            return ctx.invalid(outcome)
        return _manage(ctx, outcome, token, saved=ctx.request.query_params.get("saved") == "1")

    @router.post(MANAGE_PATH, summary="Change email preferences (manage token)", **MANAGE)
    async def manage(request: Request) -> Response:
        ctx = context(request)
        fields = await read_fields(ctx.request)
        if isinstance(fields, Problem):
            return ctx.problem(fields, ctx.language())
        form = manage_form(
            fields, languages=ctx.service.languages, components=ctx.service.component_ids
        )
        if isinstance(form, Problem) and form.field == "token":
            return ctx.invalid(Rejection.INVALID)
        if isinstance(form, Problem):
            return ctx.problem(form, ctx.language())
        outcome = await ctx.service.update(form.token, form.choice)
        if isinstance(outcome, Rejection):
            return ctx.invalid(outcome)
        if wants_json(ctx.request):
            return JSONResponse(_subscription_json(outcome))
        language = outcome.choice.language
        location = f"{MANAGE_PATH}?{urlencode({'token': form.token, 'saved': 1, 'lang': language})}"
        return RedirectResponse(location, status_code=303)


def _manage(ctx: _Context, subscription: Subscription, token: str, *, saved: bool) -> Response:
    return ctx.page(
        "subscribe_manage.html", ctx.language(subscription.choice.language),
        token=token, saved=saved, state=subscription.state,
        unsubscribe_href=_href("/unsubscribe", token), **ctx.choices(subscription),
    )  # fmt: skip


def _unsubscribe_routes(router: APIRouter, context: MakeContext) -> None:
    @router.get("/unsubscribe", include_in_schema=False)
    @router.get(UNSUBSCRIBE_PATH, include_in_schema=False)
    async def unsubscribe_page(request: Request) -> Response:
        ctx = context(request)
        token = ctx.request.query_params.get("token", "")
        outcome = await ctx.service.subscription(token)
        if isinstance(outcome, Rejection):
            return ctx.invalid(outcome)
        language = ctx.language(outcome.choice.language)
        return ctx.page("subscribe_unsubscribe.html", language, token=token)

    @router.post(
        UNSUBSCRIBE_PATH, summary="Unsubscribe (manage token; RFC 8058 one-click)", **UNSUBSCRIBE
    )
    async def unsubscribe(request: Request) -> Response:
        ctx = context(request)
        token = ctx.request.query_params.get("token")
        if token is None:
            fields = await read_fields(ctx.request)
            token = None if isinstance(fields, Problem) else token_field(fields)
        outcome = await ctx.service.unsubscribe(token or "")
        if isinstance(outcome, Rejection):
            return ctx.invalid(outcome)
        if wants_json(ctx.request):
            return JSONResponse(_subscription_json(outcome))
        return ctx.page(
            "subscribe_unsubscribed.html", ctx.language(outcome.choice.language),
            manage_href=_href(MANAGE_PATH, outcome.manage_token),
        )  # fmt: skip


def _admin_routes(router: APIRouter, service: SubscriptionService, access: AccessGuard) -> None:
    guard: Callable[..., Any] = access.require(ADMIN)

    @router.get(
        "/api/admin/subscribers",
        summary="Subscriber counts by state and language, and a page of subscribers (admin)",
        dependencies=[Depends(guard)],
        **LIST,
    )
    async def list_subscribers(
        state: Annotated[str | None, Query(pattern="^(pending|active|unsubscribed)$")] = None,
        after: Annotated[int, Query(ge=0, le=_BIGGEST_ID)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Response:
        counts = await service.counts()
        rows = await service.listing(state=state, after_id=after, limit=limit)
        return JSONResponse({
            "counts": counts,
            "states": list(STATES),
            "subscribers": [_admin_row(row) for row in rows],
            "next_after": rows[-1].id if len(rows) == limit else None,
        })  # fmt: skip

    @router.delete(
        "/api/admin/subscribers/{subscriber_id}",
        status_code=204,
        summary="Erase a subscriber on request (admin)",
        **DELETE,
    )
    async def delete_subscriber(
        subscriber_id: SubscriberId, actor: str = Depends(guard)
    ) -> Response:
        if not await service.delete(subscriber_id, actor=actor):
            return JSONResponse({"error": f"no subscriber {subscriber_id}"}, status_code=404)
        return Response(status_code=204)


def _sections(service: SubscriptionService) -> list[dict[str, Any]]:
    """The components in groups (config order), loose ones last under no heading."""
    sections: list[dict[str, Any]] = []
    for group_id, names in service.group_names.items():
        members = [c for c in service.components if c.group == group_id]
        if members:
            sections.append({"names": names, "components": members})
    loose = [c for c in service.components if c.group not in service.group_names]
    if loose:
        sections.append({"names": None, "components": loose})
    return sections


def _href(path: str, token: str) -> str:
    return f"{path}?{urlencode({'token': token})}"


def _subscription_json(subscription: Subscription) -> dict[str, Any]:
    components = subscription.choice.components
    return {
        "state": subscription.state,
        "language": subscription.choice.language,
        "components": "all" if components is None else list(components),
    }


def _admin_row(row: SubscriberRow) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return None if moment is None else moment.isoformat()

    return {
        "id": row.id,
        "address": row.address,
        "state": row.state,
        "language": row.language,
        "components": "all" if row.components is None else list(row.components),
        "awaiting_confirmation": row.pending is not None,
        "created_at": iso(row.created_at),
        "confirmed_at": iso(row.confirmed_at),
        "unsubscribed_at": iso(row.unsubscribed_at),
    }
