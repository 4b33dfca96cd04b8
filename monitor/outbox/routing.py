"""Which recipients a notice goes to on each channel, from the config's notifications section."""

from __future__ import annotations

from collections.abc import Iterator

from monitor.config import Config
from monitor.config.notifications import Filter, Notifications
from monitor.outbox.subjects import Subject
from monitor.storage.deliveries import SUBSCRIBER_PREFIX, PlannedDelivery

EMAIL, X, WEBHOOK, GRAFANA = "email", "x", "webhook", "grafana"
GRAFANA_RECIPIENT = "grafana:annotations"  # one stream of annotations; threads per incident
PAGES = ("page", "reminder")


def passes(rule: Filter, subject: Subject) -> bool:
    """Does a filter let this notice through (kind, severity, components)?"""
    if subject.kind not in rule.events:
        return False
    if subject.severity is not None and subject.severity not in rule.severities:
        return False
    return not rule.components or bool(set(rule.components) & set(subject.component_ids))


class Routes:
    """Turns a notice's subject into the deliveries for X, webhooks, Grafana and pages."""

    def __init__(self, config: Config) -> None:
        self._settings: Notifications = config.notifications

    def direct(self, subject: Subject, targets: list[str]) -> Iterator[PlannedDelivery]:
        """Deliveries with a fixed recipient: X accounts, webhooks, Grafana, paged responders."""
        if subject.kind in PAGES:
            yield from self.pages(targets)
            return
        x = self._settings.x
        if x is not None and passes(x.filter, subject):
            for account in x.accounts:
                yield PlannedDelivery(X, f"account:{account.name}", subject.thread_key)
        for hook in self._settings.webhooks:
            if passes(hook.filter, subject):
                yield PlannedDelivery(WEBHOOK, f"webhook:{hook.name}")
        grafana = self._settings.grafana
        if grafana is not None and passes(grafana.filter, subject):
            # Threaded like X: the resolution finds the annotation id the opening stored.
            yield PlannedDelivery(GRAFANA, GRAFANA_RECIPIENT, subject.thread_key)

    def pages(self, targets: list[str]) -> Iterator[PlannedDelivery]:
        """A page to each target: a responder's address and webhook, or a direct target."""
        for target in targets:
            kind, _, value = target.partition(":")
            if value and kind == "email":
                yield PlannedDelivery(EMAIL, f"email:{value}")
            elif value and kind == "webhook":
                yield PlannedDelivery(WEBHOOK, f"webhook:{value}")
            elif (responder := self._settings.responders.get(target)) is not None:
                if responder.email is not None:
                    yield PlannedDelivery(EMAIL, f"email:{responder.email}")
                if responder.webhook is not None:
                    yield PlannedDelivery(WEBHOOK, f"webhook:{responder.webhook}")

    def subscriber_components(self, subject: Subject) -> tuple[str, ...] | None:
        """The components whose subscribers get this notice by email; None if none do."""
        email = self._settings.email
        if email is None or not passes(email.subscribers, subject):
            return None
        if email.subscribers.components:
            return tuple(set(email.subscribers.components) & set(subject.component_ids))
        return subject.component_ids

    def confirmation(self, subscriber_id: int) -> PlannedDelivery | None:
        """The confirmation mail of a subscription request, if mail is set up."""
        if self._settings.email is None:
            return None
        return PlannedDelivery(EMAIL, f"{SUBSCRIBER_PREFIX}{subscriber_id}")
