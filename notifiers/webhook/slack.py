"""The Slack incoming-webhook body: a fallback ``text`` and Block Kit ``blocks``.

Both languages, Japanese first: a header with the title, a section with what happened and
the update text, a context line with severity, reason and components (or the maintenance
window), and link buttons to the incident page and, for pages, the acknowledge link.
User text is escaped as Slack asks (``&``, ``<``, ``>``), so it never becomes a link or a
mention; header and button labels are ``plain_text``, which Slack shows as written.
"""

from __future__ import annotations

from typing import Any

from monitor.notices import ComponentRef, Notice, Text
from notifiers.channel import Delivery
from notifiers.webhook.payload import JsonObject, iso

HEADER_LIMIT = 150
TEXT_LIMIT = 3000
BUTTON_LIMIT = 75

KIND_LABELS: dict[str, Text] = {
    "incident_opened": Text("障害発生", "Incident opened"),
    "update_posted": Text("続報", "Update"),
    "severity_changed": Text("重大度の変更", "Severity changed"),
    "incident_resolved": Text("復旧", "Resolved"),
    "acknowledged": Text("対応開始", "Acknowledged"),
    "maintenance_announced": Text("メンテナンスのお知らせ", "Maintenance scheduled"),
    "maintenance_started": Text("メンテナンス開始", "Maintenance started"),
    "maintenance_completed": Text("メンテナンス完了", "Maintenance completed"),
    "page": Text("呼び出し", "Page"),
    "reminder": Text("再呼び出し", "Reminder"),
}


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` the way Slack's mrkdwn requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cut_escaped(text: str, limit: int) -> str:
    """Shorten escaped mrkdwn like ``_cut``, never leaving half an ``&amp;`` at the end."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    amp = head.rfind("&", len(head) - 4)
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"


def _label(notice: Notice) -> Text:
    return KIND_LABELS.get(notice.kind, Text(notice.kind, notice.kind))


def _title(notice: Notice) -> Text:
    subject = notice.incident or notice.maintenance
    return Text(notice.site_name, notice.site_name) if subject is None else subject.title


def _plain(text: str, limit: int) -> JsonObject:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _mrkdwn(text: str) -> JsonObject:
    return {"type": "mrkdwn", "text": _cut_escaped(text, TEXT_LIMIT)}


def _paragraph(label: str, status: str | None, body: str) -> str:
    """One language's part of the section: the bold label, the status, then the text."""
    head = f"*{escape(label)}*" + (f" — {escape(status)}" if status else "")
    return f"{head}\n{escape(body)}" if body else head


def _section(notice: Notice) -> JsonObject:
    label, body = _label(notice), notice.body
    parts = [
        _paragraph(label.ja, notice.update_status, body.ja),
        _paragraph(label.en, notice.update_status, body.en),
    ]
    return {"type": "section", "text": _mrkdwn("\n\n".join(parts))}


def _component_names(components: tuple[ComponentRef, ...]) -> str:
    return ", ".join(f"{c.names.ja} / {c.names.en}" for c in components)


def _facts(notice: Notice) -> list[str]:
    """The context line's facts: severity, reason and components, or the maintenance window."""
    facts: list[str] = []
    if notice.incident is not None:
        incident = notice.incident
        facts.append(f"*重大度 / Severity:* {incident.severity}")
        if incident.severity_reason:
            facts.append(f"*理由 / Reason:* {incident.severity_reason}")
        components = incident.components
    elif notice.maintenance is not None:
        window = f"{iso(notice.maintenance.starts_at)} – {iso(notice.maintenance.ends_at)}"
        facts.append(f"*予定 / Window:* {window}")
        components = notice.maintenance.components
    else:
        components = ()
    if components:
        facts.append(f"*対象 / Components:* {_component_names(components)}")
    return facts


def _context(notice: Notice) -> JsonObject | None:
    facts = _facts(notice)
    if not facts:
        return None
    return {"type": "context", "elements": [_mrkdwn(escape(fact)) for fact in facts]}


def _button(action_id: str, label: str, url: str, style: str | None = None) -> JsonObject:
    button: JsonObject = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(label, BUTTON_LIMIT),
        "url": url,
    }
    if style is not None:
        button["style"] = style
    return button


def _actions(delivery: Delivery) -> JsonObject | None:
    """Link buttons: acknowledge (pages) first, then the incident or maintenance page."""
    notice, buttons = delivery.notice, []
    if delivery.links.ack_url:
        buttons.append(
            _button("acknowledge", "確認 / Acknowledge", delivery.links.ack_url, "danger")
        )
    subject = notice.incident or notice.maintenance
    if subject is not None and subject.url:
        buttons.append(_button("open", "詳細 / Details", subject.url))
    return {"type": "actions", "elements": buttons} if buttons else None


def _fallback(notice: Notice) -> str:
    """The notification preview and the text for clients without blocks (mrkdwn, escaped)."""
    label, title = _label(notice), _title(notice)
    return escape(f"{label.ja}: {title.ja} / {label.en}: {title.en}")


def slack_payload(delivery: Delivery) -> JsonObject:
    """Return the Slack incoming-webhook body for ``delivery``."""
    notice, title = delivery.notice, _title(delivery.notice)
    header = {"type": "header", "text": _plain(f"{title.ja} / {title.en}", HEADER_LIMIT)}
    optional = [_context(notice), _actions(delivery)]
    blocks: list[Any] = [header, _section(notice), *[b for b in optional if b is not None]]
    return {"text": _cut_escaped(_fallback(notice), TEXT_LIMIT), "blocks": blocks}
