"""The email channel: render a delivery, send it through the pool, answer with an outcome.

``build_email_channel`` is the registry's factory: None when ``notifications.email`` is not
configured, a ConfigError naming the variable when a credential is missing from the environment.
"""

from __future__ import annotations

import logging
import secrets
import ssl
from collections.abc import Mapping
from functools import partial

from jinja2 import TemplateError

from monitor.clock import Clock, SystemClock
from monitor.config import Config, ConfigError
from monitor.config.notifications import EmailChannel
from notifiers.channel import Channel, Delivery, SendOutcome
from notifiers.email.headers import message_id, sender_address
from notifiers.email.mail_stencil import MailStencils
from notifiers.email.outcomes import describe, outcome_for
from notifiers.email.pool import SmtpPool
from notifiers.email.render import Renderer
from notifiers.email.settings import new_client, smtp_options

log = logging.getLogger(__name__)


class MailChannel:
    """Sends each delivery as one mail; implements Channel and Closable."""

    def __init__(
        self,
        settings: EmailChannel,
        env: Mapping[str, str],
        *,
        time_zone: str = "Asia/Tokyo",
        clock: Clock | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        try:
            self._sender = sender_address(settings.sender)
        except ValueError as error:
            raise ConfigError("<config>", [f"notifications.email.sender: {error}"]) from None
        self._envelope_sender = self._sender.addr_spec  # a property the email package computes
        options = smtp_options(settings.smtp, env)
        self._pool = SmtpPool(
            partial(new_client, options, tls_context), options.pool_size, options.timeout
        )
        renderer = Renderer(settings.templates_dir, time_zone)
        self._mails = MailStencils(renderer, self._sender, secrets.token_hex(8))
        self._clock = clock or SystemClock()

    async def send(self, delivery: Delivery) -> SendOutcome:
        """Render and send ``delivery``; never raises."""
        mail_id = message_id(delivery, self._sender.domain)
        try:
            eight_bit = self._pool.eight_bit
            message = self._mails.mail(delivery, self._clock.now(), eight_bit=eight_bit)
        except (TemplateError, ValueError, LookupError) as error:
            log.error("email delivery %s cannot be rendered: %s", delivery.id, describe(error))
            return SendOutcome.permanent(f"cannot render: {describe(error)}")
        try:
            await self._pool.send(
                message, sender=self._envelope_sender, recipient=delivery.recipient.address,
                eight_bit=eight_bit,
            )  # fmt: skip
        except Exception as error:  # every failure becomes an outcome
            outcome = outcome_for(error)
            log.warning("email delivery %s %s: %s", delivery.id, outcome.outcome, outcome.reason)
            return outcome
        return SendOutcome.ok(external_id=mail_id)

    async def aclose(self) -> None:
        """Close every pooled SMTP connection."""
        await self._pool.aclose()


def build_email_channel(config: Config, env: Mapping[str, str]) -> Channel | None:
    """Build the email channel from ``notifications.email``; None when it is not configured."""
    settings = config.notifications.email
    if settings is None:
        return None
    return MailChannel(settings, env, time_zone=config.site.time_zone)
