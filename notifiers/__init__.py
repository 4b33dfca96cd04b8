"""notifiers: channels that deliver what monitor's timeline says (email, X, webhooks, paging).

Each channel kind is one package and one ``register`` line below. The dispatcher sends the
outbox monitor writes; this package never changes incident state. Pages are not a channel of
their own: a paged responder is reached by email or a webhook (a phone-call bridge).
"""

from notifiers.email import build_email_channel
from notifiers.grafana import build_grafana_channel
from notifiers.registry import ChannelKind, Registry
from notifiers.webhook import build_webhook_channel
from notifiers.x import build_x_channel

REGISTRY = Registry()
REGISTRY.register("email", build_email_channel)
REGISTRY.register("grafana", build_grafana_channel)
REGISTRY.register("webhook", build_webhook_channel)
REGISTRY.register("x", build_x_channel)

__all__ = ["REGISTRY", "ChannelKind", "Registry"]
