"""The index page's uptime bars, groups, forms and branding, and the uptime JSON extension."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from importlib.resources import files

import pytest

from monitor.config.models import Site
from monitor.domain import ComponentStatus
from monitor.views import (
    Branding,
    ComponentView,
    DayView,
    GroupView,
    IncidentRef,
    SiteView,
    StatusView,
    UptimeView,
)
from statuspage import api_v2, i18n, messages_uptime
from statuspage.html import PageRenderer, brand_css, build_environment, percent_text

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SITE = SiteView("demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"))
BRANDED = SiteView(
    "demo", "Demo", "https://status.example", "Asia/Tokyo", ("ja", "en"),
    Branding(
        logo_url="https://cdn.example/logo.svg", brand_color="#ffd400", accent_color="#0052cc",
        help_url="https://help.example/ja", x_url="https://x.com/demo_exchange",
    ),
)  # fmt: skip
OUTAGE = IncidentRef(5, {"ja": "障害<script>", "en": 'Outage "<script>"'})
FULL = timedelta(hours=24)


def history(days: int = 90) -> UptimeView:
    """Return ``days`` days ending 2026-11-21: the first ten without data, one outage day."""
    first = date(2026, 11, 21) - timedelta(days=days - 1)
    shown = []
    for back in range(days):
        day = first + timedelta(days=back)
        if back < 10:
            shown.append(DayView(day=day, worst_status=None))
        elif day == date(2026, 11, 20):
            shown.append(
                DayView(
                    day=day,
                    worst_status=ComponentStatus.MAJOR_OUTAGE,
                    observed=FULL,
                    outage=timedelta(minutes=30),
                    degraded=timedelta(minutes=5),
                    incidents=(OUTAGE,),
                )
            )
        else:
            shown.append(DayView(day=day, worst_status=ComponentStatus.OPERATIONAL, observed=FULL))
    return UptimeView(tuple(shown))


def page_view(site: SiteView = SITE) -> StatusView:
    """Return group ``g`` with ``a`` (history) and ``b`` (none yet) plus ungrouped ``c``."""

    def component(cid: str, group: str | None) -> ComponentView:
        return ComponentView(
            cid, {"ja": f"{cid}-ja", "en": cid}, None, group, ComponentStatus.OPERATIONAL, 0, NOW,
            NOW,
        )  # fmt: skip

    group = GroupView("g", {"ja": "グループ", "en": "Group"}, 0, NOW, NOW, ("a", "b"))
    shown = (component("a", "g"), component("b", "g"), component("c", None))
    return StatusView(site, NOW, (group,), shown, uptime={"a": history(), "c": history(30)})


def render(language: str, site: SiteView = SITE) -> str:
    return PageRenderer(build_environment(), page_view(site), language).index()


def cells(page: str) -> list[tuple[str, str]]:
    """Return (state, title) of every day cell of the bars, in order."""
    return re.findall(r'<span class="day day-([a-z_]+)" title="([^"]*)"></span>', page)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "2026-11-20 · Major outage · 97.91% uptime · 30 min of outage · 5 min degraded"
               " · Incidents: Outage &#34;&lt;script&gt;&#34;"),
        ("ja", "2026-11-20 · 大規模障害 · 稼働率 97.91% · 障害 30分 · パフォーマンス低下 5分"
               " · 障害: 障害&lt;script&gt;"),
    ],
)  # fmt: skip
def test_bars_have_one_cell_per_day_with_a_title(language: str, title: str) -> None:
    page = render(language)
    found = cells(page)
    assert len(found) == 90 + 30
    assert ("major_outage", title) in found
    assert found[10] == ("operational", f"2026-09-03 · {i18n.status_label(ComponentStatus.OPERATIONAL, language)} · "
                         + i18n.message("uptime.tip_uptime", language, percent="100%"))  # fmt: skip
    assert "<script>" not in page


@pytest.mark.parametrize(("language", "words"), [("en", "No data"), ("ja", "データなし")])
def test_days_without_data_are_marked_not_green(language: str, words: str) -> None:
    found = cells(render(language))
    assert found[:10] == [("none", f"{day} · {words}") for day in _dates(date(2026, 8, 24), 10)]
    css = files("statuspage").joinpath("static/style.css").read_text()
    assert ".day-none" in css and "--nodata" in css


def _dates(first: date, count: int) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(count)]


def test_the_bar_states_its_figures_in_text_and_lists_its_incidents() -> None:
    page = render("en")
    assert page.count('role="img" aria-label="Uptime over the past 90 days: 99.97%.') == 1
    assert "Days with an outage: 1; days without data: 10" in page
    assert (
        '<span class="bar-percent">99.97% uptime<span class="scale-short"> (past 90 days)</span>'
        in page
    )
    assert "90 days ago" in page and "30 days ago" in page and "Today" in page
    assert "Incidents in the past 90 days (1)" in page
    assert (
        '<time datetime="2026-11-20">2026-11-20</time> <a href="/incidents/5?lang=en">'
        "Outage &#34;&lt;script&gt;&#34;</a>" in page
    )


def test_groups_are_collapsible_and_show_their_uptime_and_worst_status() -> None:
    page = render("en")
    groups = re.findall(
        r'<details class="group status-(\w+)" open>\s*<summary>(.*?)</summary>', page, re.S
    )
    assert [status for status, _ in groups] == ["operational", "operational"]
    first, other = (summary for _, summary in groups)
    assert '<h3 class="group-name">Group</h3>' in first and "99.97% uptime" in first
    assert '<h3 class="group-name">Other</h3>' in other and "99.89% uptime" in other
    assert "Operational" in first  # the status in words, not only a colour
    ja = render("ja")
    assert "稼働率 99.97%" in ja and '<h3 class="group-name">グループ</h3>' in ja


def test_a_component_without_history_has_no_bar() -> None:
    page = render("en")
    b = re.search(r'<span class="component-name">b</span>(.*?)</li>', page, re.S)
    assert b is not None and 'class="bar"' not in b.group(1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_report_form_posts_to_the_reports_api(language: str) -> None:
    page = render(language)
    form = _form(page, "/api/reports")
    assert f'<input type="hidden" name="next" value="/?lang={language}">' in form
    assert re.findall(r'<option value="(\w+)">', form) == ["a", "b", "c"]
    assert '<select id="report-component" name="component" required>' in form
    assert 'name="body"' in form and "<textarea" in form and 'name="contact"' in form
    assert i18n.message("report_form.next_steps", language) in form
    # The thanks is static in the snapshot and shown by CSS when the redirect lands on it.
    assert (
        f'<p id="reported" class="notice" role="status">{i18n.message("report_form.thanks", language)}</p>'
        in page
    )
    assert '<details class="panel" id="report-problem">' in page
    css = files("statuspage").joinpath("static/style.css").read_text()
    assert ".notice:target" in css


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_subscribe_form_posts_email_language_and_components(language: str) -> None:
    form = _form(render(language), "/subscribe")
    assert '<input id="subscribe-email" type="email" name="email"' in form
    assert re.findall(r'name="language" value="(\w+)"( checked)?', form) == [
        ("ja", " checked" if language == "ja" else ""),
        ("en", " checked" if language == "en" else ""),
    ]
    assert re.findall(r'name="components" value="(\w+)"', form) == ["all", "a", "b", "c"]
    assert 'value="all" checked' in form


def _form(page: str, action: str) -> str:
    found = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', page, re.S)
    assert found is not None, action
    return found.group(1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_branding_from_the_config_appears(language: str) -> None:
    page = render(language, BRANDED)
    assert '<img class="logo" src="https://cdn.example/logo.svg" alt="" height="32">' in page
    assert page.count('href="https://help.example/ja"') == 2  # header and footer
    assert page.count('href="https://x.com/demo_exchange" rel="noopener"') == 2
    assert (
        i18n.message("brand.help", language) in page and i18n.message("brand.x", language) in page
    )
    assert "<style>:root{--brand:#ffd400;--on-brand:#000000;--accent:#0052cc}</style>" in page
    plain = render(language)
    assert "<style>" not in plain and "help.example" not in plain and 'class="logo"' not in plain


def test_brand_colours_are_only_hex_and_text_on_them_contrasts() -> None:
    assert brand_css(Branding(brand_color="#0052cc")) == ":root{--brand:#0052cc;--on-brand:#ffffff}"
    assert brand_css(Branding(brand_color="red;}body{x")) == ""
    assert brand_css(Branding()) == ""


def test_site_branding_is_validated_and_optional() -> None:
    assert Site(name="x").colors.brand is None and Site(name="x").logo_url is None
    branded = Site(
        name="x", logo_url="/static/logo.svg", colors={"brand": "#0052cc", "accent": "#FFAA00"},
        help_url="https://help.example", x_url="https://x.com/ex",
    )  # fmt: skip
    assert branded.colors.accent == "#FFAA00"
    for wrong in (
        {"colors": {"brand": "blue"}},
        {"colors": {"brand": "#12345"}},
        {"help_url": "javascript:alert(1)"},
        {"x_url": "//evil.example"},
        {"logo_url": 'https://cdn.example/a"onerror="x'},
    ):
        with pytest.raises(ValueError, match="validation error"):
            Site.model_validate({"name": "x", **wrong})


class _Outline(HTMLParser):
    """Collects landmarks, heading levels and <time> datetimes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[int] = []
        self.times: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "time":
            self.times.append(dict(attrs).get("datetime") or "")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_landmarks_heading_order_and_times(language: str) -> None:
    outline = _Outline()
    outline.feed(render(language, BRANDED))
    assert {"header", "main", "footer", "nav"} <= set(outline.tags)
    assert outline.headings[0] == 1
    assert all(b <= a + 1 for a, b in zip(outline.headings, outline.headings[1:], strict=False))
    assert outline.times and all(re.match(r"\d{4}-\d{2}-\d{2}", t) for t in outline.times)


def test_percent_text_never_rounds_an_outage_up_to_100() -> None:
    assert percent_text(100.0) == "100%"
    assert percent_text(99.99999) == "99.99%"
    assert percent_text(0.0) == "0.00%"
    assert percent_text(None) == "-"


def test_uptime_json_extension() -> None:
    document = api_v2.uptime(page_view(), "ja")
    assert set(document) == {"page", "definition", "components", "groups"}
    a, c = document["components"]
    assert (a["id"], a["name"], a["group_id"], c["id"]) == ("a", "a-ja", "g", "c")
    assert a["uptime_percent"] == 99.9739  # 30 minutes in 80 days, rounded down
    assert a["observed_minutes"] == 80 * 24 * 60 and a["outage_minutes"] == 30
    assert len(a["days"]) == 90 and len(c["days"]) == 30
    assert a["days"][0] == {
        "date": "2026-08-24", "worst_status": None, "uptime_percent": None, "outage_minutes": 0,
        "degraded_minutes": 0, "maintenance_minutes": 0, "incident_ids": [],
    }  # fmt: skip
    assert a["days"][-2] == {
        "date": "2026-11-20", "worst_status": "major_outage", "uptime_percent": 97.9166,
        "outage_minutes": 30, "degraded_minutes": 5, "maintenance_minutes": 0,
        "incident_ids": ["5"],
    }  # fmt: skip
    [group] = document["groups"]
    assert group == {
        "id": "g", "name": "グループ", "uptime_percent": a["uptime_percent"],
        "components": ["a", "b"],
    }  # fmt: skip


def test_every_uptime_message_has_both_languages_and_the_same_placeholders() -> None:
    for key, texts in messages_uptime.MESSAGES.items():
        assert set(texts) == {"ja", "en"} and all(texts.values()), key
        fields = [
            {name for _, name, _, _ in string.Formatter().parse(text) if name}
            for text in texts.values()
        ]
        assert fields[0] == fields[1], key
        assert key in i18n.MESSAGES


def test_merging_catalogs_refuses_a_key_defined_twice() -> None:
    with pytest.raises(ValueError, match=r"'uptime\.today' is defined twice"):
        i18n.merge(messages_uptime.MESSAGES, {"uptime.today": {"ja": "x", "en": "x"}})
