"""Maintenance windows and a responder's public message on the HTML page, in both languages."""

from __future__ import annotations

import re

import pytest

from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.views import IncidentView, MaintenanceStatus, StatusView
from statuspage.html import PageRenderer, build_environment
from tests.statuspage.support import HALT, component, hours, view, window
from tests.support import START

SCHEDULED, IN_PROGRESS = MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS
COMPLETED, CANCELLED = MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED


def render(shown: StatusView, language: str) -> str:
    """Return the index page of ``shown`` in ``language``."""
    return PageRenderer(build_environment(), shown, language).index()


def section(page: str, heading_id: str) -> str:
    """Return the HTML of the section labelled by ``heading_id`` (empty when absent)."""
    found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


def windows() -> StatusView:
    """Return a page with one window of each kind, ``a`` and ``b`` covered by the active one."""
    return view(
        window(1, COMPLETED, START - hours(48)),
        window(2, IN_PROGRESS, START - hours(1), component_ids=("b", "a")),
        window(3, SCHEDULED, START + hours(30)),
        window(4, SCHEDULED, START + hours(6)),
        window(5, CANCELLED, START + hours(3)),
        components=(
            component("a", ComponentStatus.UNDER_MAINTENANCE),
            component("b", ComponentStatus.UNDER_MAINTENANCE),
        ),
    )


@pytest.mark.parametrize(
    ("language", "active", "upcoming"),
    [("ja", "実施中のメンテナンス", "予定されているメンテナンス"),
     ("en", "Active maintenance", "Upcoming maintenance")],
)  # fmt: skip
def test_active_and_upcoming_windows_have_their_own_sections(
    language: str, active: str, upcoming: str
) -> None:
    page = render(windows(), language)
    now = section(page, "maintenance-active-heading")
    later = section(page, "maintenance-upcoming-heading")
    assert active in now and upcoming in later
    assert re.findall(r'id="maintenance-(\d+)"', now) == ["2"]
    assert re.findall(r'id="maintenance-(\d+)"', later) == ["4", "3"]  # soonest first
    assert 'id="maintenance-1"' not in page and 'id="maintenance-5"' not in page


def test_a_window_shows_its_name_times_components_and_text() -> None:
    active = section(render(windows(), "en"), "maintenance-active-heading")
    assert "Maintenance 2" in active and "Body 2" in active
    assert '<time datetime="2026-11-21T17:00:00.000+09:00">2026-11-21 17:00 JST</time>' in active
    assert '<time datetime="2026-11-21T19:00:00.000+09:00">19:00 JST</time>' in active
    assert "Affected components: b, a" in active
    ja = section(render(windows(), "ja"), "maintenance-active-heading")
    assert "メンテナンス2" in ja and "本文2" in ja and "対象: b-ja, a-ja" in ja and "実施中" in ja


def test_a_late_start_is_shown_and_an_on_time_one_is_not() -> None:
    on_time = section(render(windows(), "en"), "maintenance-active-heading")
    assert "Started" not in on_time
    late = window(2, IN_PROGRESS, START - hours(1), started_at=START - hours(0.5))
    shown = section(render(view(late), "en"), "maintenance-active-heading")
    assert (
        'Started <time datetime="2026-11-21T17:30:00.000+09:00">2026-11-21 17:30 JST</time>'
        in shown
    )


def test_a_window_over_midnight_shows_the_end_date() -> None:
    late = window(4, SCHEDULED, START + hours(5))  # 23:00 JST to 01:00 JST
    page = render(view(late), "en")
    assert '<time datetime="2026-11-22T01:00:00.000+09:00">2026-11-22 01:00 JST</time>' in page


def test_an_empty_body_is_left_out() -> None:
    quiet = window(4, SCHEDULED, START, bodies={"ja": "", "en": ""})
    later = section(render(view(quiet), "en"), "maintenance-upcoming-heading")
    assert "Maintenance 4" in later and 'class="body"' not in later


def test_no_maintenance_sections_without_windows() -> None:
    page = render(view(window(5, CANCELLED, START), window(1, COMPLETED, START - hours(9))), "en")
    assert "maintenance-active-heading" not in page and "maintenance-upcoming-heading" not in page
    assert "All Systems Operational" in page


def test_the_banner_says_maintenance_when_nothing_else_is_wrong() -> None:
    assert 'banner-maintenance"' in render(windows(), "en")
    assert "Scheduled maintenance in progress" in render(windows(), "en")
    assert "メンテナンスを実施中です" in render(windows(), "ja")
    outage = IncidentView(
        3, {"ja": "障害", "en": "Outage"}, IncidentStatus.INVESTIGATING, Severity.CRITICAL, "why",
        START, START, START, None, None, ("a",),
    )  # fmt: skip
    page = render(view(*windows().maintenances, incidents=(outage,)), "en")
    assert "banner-critical" in page and "Major Service Outage" in page


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_override_message_is_shown_under_the_component(language: str) -> None:
    shown = view(
        components=(component("a", ComponentStatus.MAJOR_OUTAGE, message=HALT), component("b"))
    )
    page = render(shown, language)
    item = re.search(
        r'<li class="component status-major_outage has-message">(.*?)</li>', page, re.S
    )
    assert item is not None
    name = item.group(1).index(
        f'<span class="component-name">{"a-ja" if language == "ja" else "a"}<'
    )
    assert item.group(1).index(HALT[language]) > name
    other = "en" if language == "ja" else "ja"
    assert HALT[other] not in page and page.count('class="component-message"') == 1


def test_override_messages_are_escaped() -> None:
    sneaky = {"ja": "<script>x</script>", "en": "<script>x</script>"}
    page = render(view(components=(component("a", message=sneaky),)), "en")
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("status", "component_status", "banner"),
    [
        (IncidentStatus.MONITORING, ComponentStatus.OPERATIONAL, "banner-monitoring"),
        (IncidentStatus.MONITORING, ComponentStatus.MAJOR_OUTAGE, "banner-critical"),
        (IncidentStatus.IDENTIFIED, ComponentStatus.OPERATIONAL, "banner-critical"),
    ],
)
def test_a_recovered_incident_under_watch_does_not_shout_outage(
    status: IncidentStatus, component_status: ComponentStatus, banner: str
) -> None:
    watched = IncidentView(
        3, {"ja": "障害", "en": "Outage"}, status, Severity.CRITICAL, "why",
        START, START, START, None, None, ("a",),
    )  # fmt: skip
    page = render(view(components=(component("a", component_status),), incidents=(watched,)), "en")
    assert f'{banner}"' in page
    if banner == "banner-monitoring":
        assert "Recovered — we are monitoring" in page
        assert "障害は復旧しました" in render(
            view(components=(component("a", component_status),), incidents=(watched,)), "ja"
        )
