"""The page's words in Japanese and English, and choosing the visitor's language.

``MESSAGES`` is this module's own catalog merged with each ``statuspage/messages_*.py``
module's ``MESSAGES``: to add a module, add its name to ``CATALOGS`` (one line). A key
defined twice is an error at import, so two modules can never silently disagree.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.views import MaintenanceStatus
from monitor.wording import STATUS_NAMES

Catalog = Mapping[str, Mapping[str, str]]

CATALOGS = (
    # The ``messages_*`` modules merged into ``MESSAGES``, one per line.
    "statuspage.messages_uptime",
    "statuspage.messages_subscribe",
    "statuspage.messages_history",
)

_PAGE: dict[str, dict[str, str]] = {
    "page.title": {"ja": "{name} ステータス", "en": "{name} Status"},
    "page.skip": {"ja": "本文へ移動", "en": "Skip to content"},
    "page.language": {"ja": "言語", "en": "Language"},
    "banner.none": {
        "ja": "すべてのシステムが正常に稼働しています",
        "en": "All Systems Operational",
    },
    "banner.minor": {
        "ja": "一部のサービスに軽微な障害が発生しています",
        "en": "Minor Service Outage",
    },
    "banner.major": {"ja": "一部のシステムで障害が発生しています", "en": "Partial System Outage"},
    "banner.critical": {"ja": "大規模な障害が発生しています", "en": "Major Service Outage"},
    "banner.monitoring": {
        "ja": "障害は復旧しました（経過観察中）",
        "en": "Recovered — we are monitoring",
    },
    "banner.maintenance": {
        "ja": "メンテナンスを実施中です",
        "en": "Scheduled maintenance in progress",
    },
    "incidents.active": {"ja": "発生中の障害", "en": "Active incidents"},
    "incidents.past": {"ja": "過去の障害", "en": "Past incidents"},
    "incidents.none_past": {"ja": "最近の障害はありません。", "en": "No recent incidents."},
    "incidents.started": {"ja": "発生", "en": "Started"},
    "incidents.resolved_at": {"ja": "解決", "en": "Resolved"},
    "incidents.duration": {"ja": "継続時間", "en": "Duration"},
    "incidents.severity": {"ja": "重大度", "en": "Severity"},
    "incidents.affected": {"ja": "影響範囲", "en": "Affected components"},
    "incidents.updates": {"ja": "更新情報", "en": "Updates"},
    "incidents.latest": {"ja": "最新情報", "en": "Latest update"},
    "incidents.details": {"ja": "詳細", "en": "Details"},
    "incidents.back": {"ja": "ステータスページに戻る", "en": "Back to the status page"},
    "incidents.postmortem": {"ja": "事後報告", "en": "Postmortem"},
    "incidents.postmortem_published": {"ja": "公開日時", "en": "Published"},
    "maintenance.active": {"ja": "実施中のメンテナンス", "en": "Active maintenance"},
    "maintenance.upcoming": {"ja": "予定されているメンテナンス", "en": "Upcoming maintenance"},
    "maintenance.window": {"ja": "予定時間", "en": "Scheduled"},
    "maintenance.began": {"ja": "開始", "en": "Started"},
    "maintenance.affected": {"ja": "対象", "en": "Affected components"},
    "maintenance.started_body": {
        "ja": "メンテナンスを開始しました。終了まで対象のサービスをご利用いただけない場合があります。",
        "en": "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    },
    "maintenance.completed_body": {
        "ja": "メンテナンスは終了しました。ご協力ありがとうございました。",
        "en": "The scheduled maintenance has been completed.",
    },
    "maintenance_status.scheduled": {"ja": "予定", "en": "Scheduled"},
    "maintenance_status.in_progress": {"ja": "実施中", "en": "In progress"},
    "maintenance_status.completed": {"ja": "完了", "en": "Completed"},
    "components.heading": {"ja": "サービスの状態", "en": "System status"},
    "components.other": {"ja": "その他", "en": "Other"},
    "footer.updated": {"ja": "最終更新", "en": "Last updated"},
    "footer.api": {"ja": "JSON API", "en": "JSON API"},
    "footer.times": {"ja": "時刻は{zone}で表示しています", "en": "Times are shown in {zone}"},
    "duration.minutes": {"ja": "{n}分", "en": "{n} min"},
    "duration.hours": {"ja": "{h}時間{m}分", "en": "{h} h {m} min"},
    "severity.minor": {"ja": "軽微", "en": "Minor"},
    "severity.moderate": {"ja": "中程度", "en": "Moderate"},
    "severity.critical": {"ja": "重大", "en": "Critical"},
    "incident_status.investigating": {"ja": "調査中", "en": "Investigating"},
    "incident_status.identified": {"ja": "原因特定", "en": "Identified"},
    "incident_status.monitoring": {"ja": "経過観察中", "en": "Monitoring"},
    "incident_status.resolved": {"ja": "解決済み", "en": "Resolved"},
    **{f"status.{status.value}": names for status, names in STATUS_NAMES.items()},
}
LANGUAGES = ("ja", "en")


def merge(*catalogs: Catalog) -> dict[str, dict[str, str]]:
    """Return one catalog of ``catalogs``; raise ValueError on a key defined twice."""
    merged: dict[str, dict[str, str]] = {}
    for catalog in catalogs:
        for key, texts in catalog.items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice")
            merged[key] = dict(texts)
    return merged


def _module_catalog(name: str) -> Catalog:
    """Return the ``MESSAGES`` of module ``name``."""
    catalog: Catalog = importlib.import_module(name).MESSAGES
    return catalog


MESSAGES: dict[str, dict[str, str]] = merge(_PAGE, *(_module_catalog(name) for name in CATALOGS))


def message(key: str, language: str, **values: object) -> str:
    """Return the message ``key`` in ``language`` with ``values`` filled in."""
    text = MESSAGES[key].get(language) or MESSAGES[key]["en"]
    return text.format(**values) if values else text


def status_label(status: ComponentStatus, language: str) -> str:
    """Return a component status in words."""
    return message(f"status.{status.value}", language)


def severity_label(severity: Severity, language: str) -> str:
    """Return a severity in words."""
    return message(f"severity.{severity.value}", language)


def incident_status_label(status: IncidentStatus, language: str) -> str:
    """Return an incident status in words."""
    return message(f"incident_status.{status.value}", language)


def maintenance_status_label(status: MaintenanceStatus, language: str) -> str:
    """Return a maintenance window's state in words."""
    return message(f"maintenance_status.{status.value}", language)


def choose_language(query: str | None, accept_language: str | None, offered: Sequence[str]) -> str:
    """Pick ``?lang=`` if offered, else the best Accept-Language match, else the first offered."""
    if query is not None and query in offered:
        return query
    for tag in _preferences(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in offered:
            return primary
    return offered[0]


def _preferences(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]
