"""SMTP settings resolved against the environment: the credentials and how to connect."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiosmtplib import SMTP

from monitor.config import ConfigError
from monitor.config.notifications import SmtpSettings

SOURCE = "notifications.email.smtp"


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    """Everything needed to open one SMTP connection; the password never shows in a repr."""

    host: str
    port: int
    security: str  # none | starttls | tls
    timeout: float
    pool_size: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def smtp_options(settings: SmtpSettings, env: Mapping[str, str]) -> SmtpOptions:
    """Resolve ``settings`` against ``env``; raises ConfigError naming a missing variable."""
    return SmtpOptions(
        host=settings.host,
        port=settings.port,
        security=settings.security,
        timeout=settings.timeout,
        pool_size=settings.pool_size,
        username=_from_env(env, settings.username_env, "username_env"),
        password=_from_env(env, settings.password_env, "password_env"),
    )


def _from_env(env: Mapping[str, str], name: str | None, setting: str) -> str | None:
    if name is None:
        return None
    value = env.get(name)
    if not value:
        problem = f"{SOURCE}.{setting}: the environment variable {name} is not set"
        raise ConfigError("<environment>", [problem])
    return value


def new_client(options: SmtpOptions, tls_context: ssl.SSLContext | None = None) -> SMTP:
    """Return an unconnected aiosmtplib client for ``options``."""
    return SMTP(
        hostname=options.host,
        port=options.port,
        username=options.username,
        password=options.password,
        timeout=options.timeout,
        use_tls=options.security == "tls",
        start_tls=options.security == "starttls",
        tls_context=tls_context,
    )
