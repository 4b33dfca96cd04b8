"""Message identity and threading: Message-ID, In-Reply-To/References, the sender's domain.

A Message-ID is deterministic per delivery (``<delivery-7.42@example.com>``), so a resend after
a crash carries the same id and receivers can drop the duplicate. Every mail about one incident
(or maintenance) refers to the same root id, ``<incident-3@example.com>``, and threads with it.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr

from monitor.notices import Notice
from notifiers.channel import Delivery


def sender_address(sender: str) -> Address:
    """Parse the configured From (``Name <addr@domain>``); raises ValueError without a domain."""
    name, address = parseaddr(sender)
    user, _, domain = address.rpartition("@")
    if not user or not domain:
        raise ValueError(f"the sender {sender!r} has no address like status@example.com")
    return Address(display_name=name, username=user, domain=domain)


def message_id(delivery: Delivery, domain: str) -> str:
    """Return the delivery's Message-ID, the same on every attempt."""
    return f"<delivery-{delivery.id}.{delivery.notice.event_id}@{domain}>"


def thread_root(notice: Notice, domain: str) -> str | None:
    """Return the id all mail about the notice's incident or maintenance refers to, if any."""
    if notice.incident is not None:
        return f"<incident-{notice.incident.id}@{domain}>"
    if notice.maintenance is not None:
        return f"<maintenance-{notice.maintenance.id}@{domain}>"
    return None
