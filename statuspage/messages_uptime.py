"""Words of the index page's uptime bars, forms and branded links, in Japanese and English.

Merged into ``statuspage.i18n.MESSAGES``; every key has both languages.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # The 90-day bars.
    "uptime.percent": {"ja": "稼働率 {percent}", "en": "{percent} uptime"},
    "uptime.no_data": {"ja": "データなし", "en": "No data"},
    "uptime.days_ago": {"ja": "{n}日前", "en": "{n} days ago"},
    "uptime.today": {"ja": "今日", "en": "Today"},
    "uptime.over_days": {"ja": "（過去{days}日間）", "en": "(past {days} days)"},
    "uptime.summary": {
        "ja": "過去{days}日間の稼働率 {percent}。障害のあった日 {outage_days}日、データのない日 {empty_days}日",
        "en": "Uptime over the past {days} days: {percent}. Days with an outage: {outage_days}; "
        "days without data: {empty_days}",
    },
    "uptime.tip_uptime": {"ja": "稼働率 {percent}", "en": "{percent} uptime"},
    "uptime.tip_outage": {"ja": "障害 {minutes}分", "en": "{minutes} min of outage"},
    "uptime.tip_degraded": {"ja": "パフォーマンス低下 {minutes}分", "en": "{minutes} min degraded"},
    "uptime.tip_maintenance": {
        "ja": "メンテナンス {minutes}分",
        "en": "{minutes} min of maintenance",
    },
    "uptime.tip_incidents": {"ja": "障害: {names}", "en": "Incidents: {names}"},
    "uptime.incidents": {
        "ja": "過去{days}日間の障害（{count}件）",
        "en": "Incidents in the past {days} days ({count})",
    },
    "uptime.legend": {"ja": "凡例", "en": "Legend"},
    "uptime.explained": {
        "ja": "各日は{zone}の0時から24時まで。稼働率は一部障害・大規模障害の時間を停止として計算します"
        "（パフォーマンス低下とメンテナンスは停止に含みません）。",
        "en": "Each day runs midnight to midnight, {zone}. Uptime counts time in partial or major "
        "outage as down; degraded performance and maintenance are not downtime.",
    },
    # Branding links.
    "brand.links": {"ja": "関連リンク", "en": "Links"},
    "brand.help": {"ja": "ヘルプセンター", "en": "Help centre"},
    "brand.x": {"ja": "公式X（旧Twitter）", "en": "Follow us on X"},
    "brand.logo": {"ja": "{name} ロゴ", "en": "{name} logo"},
    # The report form.
    "report_form.title": {"ja": "不具合を報告する", "en": "Report a problem"},
    "report_form.intro": {
        "ja": "ご利用中のサービスで問題が起きている場合はお知らせください。",
        "en": "Something not working for you? Tell us.",
    },
    "report_form.component": {"ja": "対象のサービス", "en": "Component"},
    "report_form.body": {
        "ja": "どのような問題が起きていますか",
        "en": "What is wrong?",
    },
    "report_form.contact": {
        "ja": "連絡先（任意：メールアドレスなど）",
        "en": "Contact (optional, e.g. an email address)",
    },
    "report_form.submit": {"ja": "報告を送信", "en": "Send report"},
    "report_form.next_steps": {
        "ja": "送信後はこのページに戻ります。いただいた報告はすべて担当者が確認し、同じサービスへの報告が"
        "続いた場合は直ちに調査を始めます。個別の返信は行わず、状況はこのページでお知らせします。"
        "報告の内容が公開されることはありません。",
        "en": "After sending you come back to this page. Every report is read; several reports "
        "about the same component alert our engineers at once. We do not reply to each report: "
        "news appears on this page. Reports are never shown publicly.",
    },
    "report_form.thanks": {
        "ja": "ご報告ありがとうございます。受け付けました。状況はこのページでお知らせします。",
        "en": "Thank you, your report was received. We post news on this page.",
    },
    # The subscribe form.
    "subscribe_form.title": {"ja": "更新情報をメールで受け取る", "en": "Subscribe to updates"},
    "subscribe_form.intro": {
        "ja": "確認メールのリンクを開くまで登録されません。すべてのメールにワンクリックの配信停止リンクがあります。",
        "en": "Nothing is sent until you follow the link in our confirmation email. "
        "Every email has a one-click unsubscribe link.",
    },
    "subscribe_form.email": {"ja": "メールアドレス", "en": "Email address"},
    "subscribe_form.language": {"ja": "メールの言語", "en": "Language of the emails"},
    "subscribe_form.components": {"ja": "対象のサービス", "en": "Components"},
    "subscribe_form.all": {"ja": "すべてのサービス", "en": "All components"},
    "subscribe_form.submit": {"ja": "登録する", "en": "Subscribe"},
}
