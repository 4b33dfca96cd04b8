"""Webhooks: a signed, versioned exwatch JSON body or a Slack incoming-webhook message.

``build_webhook_channel`` is the registry's factory; ``verify_signature`` is for receivers
(and tests); ``WEBHOOK_SCHEMA_V1`` describes the exwatch body as a JSON Schema.
"""

from notifiers.webhook.channel import Target, WebhookChannel, build_webhook_channel, encode
from notifiers.webhook.payload import SCHEMA_NAME, WEBHOOK_SCHEMA_V1, exwatch_payload
from notifiers.webhook.responses import classify
from notifiers.webhook.signing import SIGNATURE_HEADER, signature_header, verify_signature
from notifiers.webhook.slack import slack_payload

__all__ = [
    "SCHEMA_NAME",
    "SIGNATURE_HEADER",
    "WEBHOOK_SCHEMA_V1",
    "Target",
    "WebhookChannel",
    "build_webhook_channel",
    "classify",
    "encode",
    "exwatch_payload",
    "signature_header",
    "slack_payload",
    "verify_signature",
]
