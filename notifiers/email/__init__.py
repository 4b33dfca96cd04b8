"""The email channel: Jinja2-rendered text + HTML mail sent through a small aiosmtplib pool.

``build_email_channel(config, env)`` is the registry factory; ``MailChannel.send`` renders one
Delivery, sends it and answers ok / retryable / permanent, never raising.
"""

from notifiers.email.channel import MailChannel, build_email_channel

__all__ = ["MailChannel", "build_email_channel"]
