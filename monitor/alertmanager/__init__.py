"""Alertmanager in: the webhook receiver that turns Prometheus alerts into exwatch alerts."""

from monitor.alertmanager.payload import PayloadError, WebhookPayload, parse_payload
from monitor.alertmanager.receiver import build_alertmanager_router

__all__ = ["PayloadError", "WebhookPayload", "build_alertmanager_router", "parse_payload"]
