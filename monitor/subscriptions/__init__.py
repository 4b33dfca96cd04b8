"""Email subscriptions of the public page: double opt-in, token-held preferences, no login.

Wiring (``monitor.app``; the key comes from ``EXWATCH_SUBSCRIPTION_KEY``, at least 32 bytes)::

    subscriptions = SubscriptionService(database, config, clock, key=subscription_key)
    ticker.register("subscriptions", subscriptions.tick)
    pages = SubscribePages(PackageLoader("statuspage", "templates"), MESSAGES, choose_language)
    app.include_router(build_subscriptions_router(subscriptions, pages, access=access))

The mail channel (#6) answers each ``subscription_confirmation_requested`` timeline event with
``confirmation_mail(subscriber_id)``, pages through ``recipients(component_ids)`` for incident
mail and puts ``mail_links(subscriber)`` in each message.
"""

from monitor.subscriptions.limits import Refused, SubscriptionLimits
from monitor.subscriptions.normalisation import AddressError, normalise_address
from monitor.subscriptions.pages import SubscribePages
from monitor.subscriptions.router import build_subscriptions_router
from monitor.subscriptions.service import (
    REQUESTED_EVENT,
    Choice,
    ConfirmationMail,
    MailLinks,
    Requested,
    Subscription,
    SubscriptionService,
)
from monitor.subscriptions.tokens import Rejection, check_subscription_key

__all__ = [
    "REQUESTED_EVENT",
    "AddressError",
    "Choice",
    "ConfirmationMail",
    "MailLinks",
    "Refused",
    "Rejection",
    "Requested",
    "SubscribePages",
    "Subscription",
    "SubscriptionLimits",
    "SubscriptionService",
    "build_subscriptions_router",
    "check_subscription_key",
    "normalise_address",
]
