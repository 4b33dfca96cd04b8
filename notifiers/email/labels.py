"""The words the templates use, in Japanese and English (the status page's own wording)."""

from __future__ import annotations

from monitor.notices import STATUS_WORDS, Text

LABELS: dict[str, Text] = {
    "status": Text("状況", "Status"),
    "severity": Text("重大度", "Severity"),
    "previous_severity": Text("変更前の重大度", "Previous severity"),
    "reason": Text("理由", "Reason"),
    "severity_reason": Text("重大度の根拠", "Why this severity"),
    "affected": Text("影響範囲", "Affected components"),
    "started": Text("発生", "Started"),
    "resolved": Text("解決", "Resolved"),
    "window": Text("予定時間", "Scheduled"),
    "latest": Text("更新内容", "Update"),
    "details": Text("詳細", "Details"),
    "acknowledge": Text("対応を開始する（確認）", "Acknowledge this incident"),
    "acknowledged_by": Text("確認者", "Acknowledged by"),
    "level": Text("呼び出しレベル", "Paging level"),
    "manage": Text("配信設定の変更", "Manage your subscription"),
    "unsubscribe": Text("配信停止", "Unsubscribe"),
    "footer": Text(
        "このメールは{site}の障害情報の購読者にお送りしています。",
        "You receive this mail because you subscribed to {site} notifications.",
    ),
    "automatic": Text("このメールは自動送信です。", "This message was sent automatically."),
}

WORDS: dict[str, Text] = {
    "minor": Text("軽微", "Minor"),
    "moderate": Text("中程度", "Moderate"),
    "critical": Text("重大", "Critical"),
    **STATUS_WORDS,
}
"""Severities and statuses by their stored value."""


def labels(language: str) -> dict[str, str]:
    """Return every label in ``language``."""
    return {key: text.get(language) for key, text in LABELS.items()}


def word(value: str | None, language: str) -> str:
    """Return a severity or status in ``language``; unknown values are shown as stored."""
    if value is None:
        return ""
    text = WORDS.get(value)
    return value if text is None else text.get(language)
