"""The words exwatch writes on its own: status names and automatic incident texts, in ja and en."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.domain import ComponentStatus

STATUS_NAMES: dict[ComponentStatus, dict[str, str]] = {
    ComponentStatus.OPERATIONAL: {"ja": "正常", "en": "Operational"},
    ComponentStatus.DEGRADED_PERFORMANCE: {
        "ja": "パフォーマンス低下",
        "en": "Degraded performance",
    },
    ComponentStatus.PARTIAL_OUTAGE: {"ja": "一部障害", "en": "Partial outage"},
    ComponentStatus.MAJOR_OUTAGE: {"ja": "大規模障害", "en": "Major outage"},
    ComponentStatus.UNDER_MAINTENANCE: {"ja": "メンテナンス中", "en": "Under maintenance"},
}


def incident_name(component: dict[str, str], status: ComponentStatus) -> dict[str, str]:
    """Return an automatic incident title such as "Trading engine: major outage"."""
    words = STATUS_NAMES[status]
    return {
        "ja": f"{component['ja']}の{words['ja']}",
        "en": f"{component['en']}: {words['en'].lower()}",
    }


def opened_text(component: dict[str, str], status: ComponentStatus) -> dict[str, str]:
    """Return the first public update of an incident opened by monitoring."""
    words = STATUS_NAMES[status]
    return {
        "ja": f"監視システムが{component['ja']}の異常（{words['ja']}）を検知しました。現在、原因を調査しています。",
        "en": (
            f"Our monitoring detected a problem with {component['en']} ({words['en'].lower()}). "
            "We are investigating."
        ),
    }


def joined_text(component: dict[str, str], status: ComponentStatus) -> dict[str, str]:
    """Return the public update posted when another component is affected."""
    words = STATUS_NAMES[status]
    return {
        "ja": f"{component['ja']}にも影響が出ています（{words['ja']}）。引き続き調査しています。",
        "en": f"{component['en']} is also affected ({words['en'].lower()}). We are still investigating.",
    }


def root_text(
    component: dict[str, str], status: ComponentStatus, dependents: Sequence[dict[str, str]]
) -> dict[str, str]:
    """Return the update posted when the component the others depend on turns out affected too."""
    words = STATUS_NAMES[status]
    ja_deps = "、".join(d["ja"] for d in dependents)
    en_deps = ", ".join(d["en"] for d in dependents)
    return {
        "ja": f"{component['ja']}で障害（{words['ja']}）が発生しています。{ja_deps}は{component['ja']}を利用しているため影響を受けています。引き続き調査しています。",
        "en": (
            f"{component['en']} is affected ({words['en'].lower()}); {en_deps} depend on it. "
            "We are still investigating."
        ),
    }


def resolved_text(components: Sequence[dict[str, str]]) -> dict[str, str]:
    """Return the public update posted when every affected component has recovered."""
    ja = "、".join(c["ja"] for c in components)
    en = ", ".join(c["en"] for c in components)
    return {
        "ja": f"{ja}は復旧し、正常に稼働しています。本件は解決しました。ご迷惑をおかけし申し訳ございません。",
        "en": f"{en} recovered and {'is' if len(components) == 1 else 'are'} operating normally. "
        "This incident is resolved. We apologise for the inconvenience.",
    }


def monitoring_text(components: Sequence[dict[str, str]]) -> dict[str, str]:
    """Return the update posted when every affected component recovered, before the resolve."""
    ja = "、".join(c["ja"] for c in components)
    en = ", ".join(c["en"] for c in components)
    return {
        "ja": f"{ja}は復旧しました。再発しないことを確認するため、引き続き監視しています。",
        "en": f"{en} recovered. We are monitoring to make sure the problem does not return.",
    }


def recurred_text(component: dict[str, str]) -> dict[str, str]:
    """Return the update posted when a component fails again during the same incident."""
    return {
        "ja": f"{component['ja']}で再び異常が発生しています。引き続き調査しています。",
        "en": f"{component['en']} is failing again. We are investigating.",
    }


def reported_name(component: dict[str, str]) -> dict[str, str]:
    """Return the title of an incident opened from user reports."""
    return {
        "ja": f"{component['ja']}の不具合に関するお問い合わせ",
        "en": f"{component['en']}: reports of problems",
    }


def reported_text(component: dict[str, str]) -> dict[str, str]:
    """Return the first update of an incident opened from user reports."""
    return {
        "ja": f"{component['ja']}について複数のお客様から不具合のご報告をいただいています。現在、確認しています。",
        "en": f"Several customers reported problems with {component['en']}. We are looking into it.",
    }
