"""Words of the history pages, maintenance pages, feeds and badges, in Japanese and English.

Kept apart from ``statuspage.i18n`` until they are merged into its catalog; ``text`` then
becomes ``i18n.message``.
"""

from __future__ import annotations

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

MESSAGES: dict[str, dict[str, str]] = {
    "history.title": {"ja": "障害・メンテナンス履歴", "en": "Incident history"},
    "history.link": {"ja": "過去の障害・メンテナンス", "en": "Incident history"},
    "history.empty_month": {
        "ja": "この月に報告された障害・メンテナンスはありません。",
        "en": "No incidents or maintenance reported this month.",
    },
    "history.incident": {"ja": "障害", "en": "Incident"},
    "history.maintenance": {"ja": "メンテナンス", "en": "Maintenance"},
    "history.pagination": {"ja": "履歴のページ", "en": "History pages"},
    "history.newer": {"ja": "新しい履歴", "en": "Newer"},
    "history.older": {"ja": "以前の履歴", "en": "Older"},
    "history.page_of": {"ja": "{page} / {pages} ページ", "en": "Page {page} of {pages}"},
    "history.feeds": {"ja": "フィード", "en": "Feeds"},
    "history.atom": {"ja": "Atom フィード", "en": "Atom feed"},
    "history.rss": {"ja": "RSS フィード", "en": "RSS feed"},
    "history.back": {"ja": "履歴に戻る", "en": "Back to the history"},
    **{
        f"history.month.{number}": {"ja": f"{{year}}年{number}月", "en": f"{name} {{year}}"}
        for number, name in enumerate(_MONTHS_EN, start=1)
    },
    "maintenance_page.status": {"ja": "状態", "en": "Status"},
    "maintenance_page.details": {"ja": "内容", "en": "Details"},
    "maintenance_page.life": {"ja": "経過", "en": "Timeline"},
    "maintenance_page.announced": {"ja": "告知", "en": "Announced"},
    "maintenance_page.started": {"ja": "開始", "en": "Started"},
    "maintenance_page.completed": {"ja": "完了", "en": "Completed"},
    "feed.title": {"ja": "{name} 障害・メンテナンス情報", "en": "{name} status history"},
    "feed.component_title": {
        "ja": "{name} 障害・メンテナンス情報：{component}",
        "en": "{name} status history: {component}",
    },
    "feed.subtitle": {
        "ja": "障害の更新情報とメンテナンスのお知らせ",
        "en": "Incident updates and scheduled maintenance",
    },
    "feed.entry_title": {"ja": "【{status}】{name}", "en": "[{status}] {name}"},
    "feed.maintenance_announced": {
        "ja": "{start} から {end} までメンテナンスを予定しています。{body}",
        "en": "Maintenance is scheduled from {start} to {end}. {body}",
    },
    "feed.maintenance_started": {
        "ja": "メンテナンスを開始しました。終了まで対象のサービスをご利用いただけない場合があります。",
        "en": "Scheduled maintenance is in progress. We will provide updates as necessary.",
    },
    "feed.maintenance_completed": {
        "ja": "メンテナンスは終了しました。ご協力ありがとうございました。",
        "en": "The scheduled maintenance has been completed.",
    },
    "badge.label": {"ja": "ステータス", "en": "status"},
    "badge.none": {"ja": "正常", "en": "operational"},
    "badge.minor": {"ja": "軽微な障害", "en": "minor outage"},
    "badge.major": {"ja": "一部障害", "en": "partial outage"},
    "badge.critical": {"ja": "大規模障害", "en": "major outage"},
}


def text(key: str, language: str, **values: object) -> str:
    """Return the message ``key`` in ``language`` (English when missing) with ``values`` in."""
    words = MESSAGES[key].get(language) or MESSAGES[key]["en"]
    return words.format(**values) if values else words
