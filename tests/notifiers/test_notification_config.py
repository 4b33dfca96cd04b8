"""The notifications section: every broken name is an error naming its path, before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import ConfigError
from tests.lifecycle_support import lifecycle_config
from tests.notifiers.outbox_support import NOTIFICATIONS, outbox_config


def _problems(**notifications: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        outbox_config(**notifications)
    return str(raised.value)


def test_the_full_section_loads_with_its_defaults() -> None:
    settings = outbox_config().notifications
    assert settings.email is not None and settings.email.smtp.security == "starttls"
    assert settings.email.smtp.username_env is None  # a server without auth needs no names
    assert settings.x is not None and [str(s) for s in settings.x.filter.severities] == [
        "moderate", "critical",
    ]  # fmt: skip
    assert settings.delivery.max_attempts == 3


def test_without_channels_page_targets_are_only_names() -> None:
    assert lifecycle_config().notifications.email is None  # pages are recorded, nobody is mailed


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"responders": {"sre-primary": {"email": "p@example.com"}}},
         "escalation.levels.critical[1].targets[0]: unknown responder 'sre-secondary'"),
        ({"responders": {**NOTIFICATIONS["responders"], "sre-lead": {"webhook": "phone"}}},
         "notifications.responders.sre-lead.webhook: no webhook named 'phone'"),
        ({"email": None},
         "notifications.responders.sre-primary.email: paging by email needs notifications.email"),
        ({"webhooks": [{"name": "ops", "url": "https://h.example.com", "filter": {"components": ["btc-tradin"]}}]},
         "notifications.webhooks[0].filter.components[0]: unknown component 'btc-tradin'"),
        ({"webhooks": [{"name": "ops", "url": "https://a.example.com"}, {"name": "ops", "url": "https://b.example.com"}]},
         "notifications.webhooks[1].name: duplicate name 'ops'"),
        ({"delivery": {"lease": "1s"}}, "must be at least 5s"),
        ({"x": {"accounts": []}}, "notifications.x.accounts"),
        ({"email": {"sender": "s@example.com", "smtp": {"security": "ssl"}}},
         "notifications.email.smtp.security"),
        ({"responders": {"sre-primary": {}}}, "give an email, a webhook, or both"),
    ],
)  # fmt: skip
def test_each_broken_reference_is_named(changes: dict[str, Any], expected: str) -> None:
    assert expected in _problems(**changes)


def test_an_escalation_target_may_name_an_address_or_webhook_directly() -> None:
    escalation = {"levels": {"critical": [{"targets": ["email:boss@example.com", "webhook:ops"]}]}}
    config = lifecycle_config(
        site={"name": "T"}, escalation=escalation, notifications=NOTIFICATIONS
    )
    assert config.escalation.levels
    bad = {"levels": {"critical": [{"targets": ["webhook:nowhere"]}]}}
    with pytest.raises(ConfigError, match="no webhook named 'nowhere'"):
        lifecycle_config(site={"name": "T"}, escalation=bad, notifications=NOTIFICATIONS)
