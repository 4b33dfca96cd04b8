"""plan_reload: what a new file changes, what waits for a restart; and the 422 problem lines."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from monitor.admin.config_api import _problem
from monitor.config import Config, parse_config
from monitor.reload.plan import RestartNeededError, plan_reload
from tests.reload.support import TEST_REGISTRY, base_document, check


def parsed(document: dict[str, Any]) -> Config:
    return parse_config(yaml.safe_dump(document, allow_unicode=True), registry=TEST_REGISTRY)


RUNNING = parsed(base_document())


def with_changes(**sections: Any) -> dict[str, Any]:
    document = copy.deepcopy(base_document())
    document.update(sections)
    return document


def test_the_same_file_changes_nothing() -> None:
    plan = plan_reload(RUNNING, parsed(base_document()), source="f")
    assert plan.report.applied is False
    assert plan.report.as_json()["checks"] == {"added": [], "removed": [], "changed": []}
    assert plan.config == RUNNING


def test_a_new_order_of_components_is_applied() -> None:
    document = with_changes()
    document["components"].reverse()
    plan = plan_reload(RUNNING, parsed(document), source="f")
    assert plan.report.applied is True
    assert plan.report.sections == ("components.order",)
    assert [c.id for c in plan.config.components] == ["btc-withdrawals", "api", "spot"]


def test_site_text_and_branding_apply_field_by_field() -> None:
    document = with_changes()
    document["site"].update(name="New", colors={"brand": "#112233"}, help_url="/help")
    plan = plan_reload(RUNNING, parsed(document), source="f")
    assert plan.report.sections == ("site.name", "site.colors", "site.help_url")
    assert plan.config.site.name == "New"


def test_an_email_channel_added_waits_for_a_restart_while_the_rest_applies() -> None:
    document = with_changes(notifications={"email": {"sender": "status@example.com"}})
    document["site"]["name"] = "New"
    plan = plan_reload(RUNNING, parsed(document), source="f")
    assert plan.report.restart_required == ("notifications.email",)
    assert plan.report.sections == ("site.name",)
    assert plan.config.notifications.email is None
    assert plan.config.site.name == "New"


def test_responders_apply_live() -> None:
    running = parsed(with_changes(notifications={"email": {"sender": "status@example.com"}}))
    document = with_changes(
        notifications={
            "email": {"sender": "status@example.com"},
            "responders": {"sre": {"email": "sre@example.com"}},
        }
    )
    plan = plan_reload(running, parsed(document), source="f")
    assert (plan.report.sections, plan.report.restart_required) == (
        ("notifications.responders",), (),
    )  # fmt: skip


def test_a_change_that_only_fits_a_restart_is_refused() -> None:
    # The new responder pages through a webhook that only a restart would build.
    document = with_changes(
        notifications={
            "webhooks": [{"name": "ops", "url": "https://hooks.example.com/x"}],
            "responders": {"sre": {"webhook": "ops"}},
        }
    )
    with pytest.raises(RestartNeededError) as refused:
        plan_reload(RUNNING, parsed(document), source="f")
    assert "notifications.webhooks" in str(refused.value)


ids = st.sampled_from(["a1", "b2", "c3", "d4", "e5"])


@given(
    before=st.dictionaries(ids, st.integers(1, 3), max_size=5),
    after=st.dictionaries(ids, st.integers(1, 3), max_size=5),
)
def test_check_changes_partition_the_ids(before: dict[str, int], after: dict[str, int]) -> None:
    """Every id is exactly one of added, removed, changed or unchanged; intervals decide."""

    def document(intervals: dict[str, int]) -> dict[str, Any]:
        checks = [check(i, "spot", interval=f"{n * 10}s") for i, n in sorted(intervals.items())]
        return with_changes(checks=checks)

    changes = plan_reload(parsed(document(before)), parsed(document(after)), source="f")
    report = changes.report.checks
    assert set(report.added) == after.keys() - before.keys()
    assert set(report.removed) == before.keys() - after.keys()
    assert set(report.changed) == {i for i in before.keys() & after.keys() if before[i] != after[i]}
    assert changes.report.applied == (before != after)
    assert {c.id: c.interval for c in changes.config.checks} == {
        i: n * 10.0 for i, n in after.items()
    }


@given(path=st.from_regex(r"[a-z_\[\]0-9.]{1,30}", fullmatch=True), message=st.text(max_size=60))
def test_a_problem_line_splits_into_its_path_and_message(path: str, message: str) -> None:
    assert _problem(f"{path}: {message}") == {"path": path, "message": message}


@given(line=st.text(max_size=60).filter(lambda text: ": " not in text))
def test_a_line_without_a_path_is_all_message(line: str) -> None:
    assert _problem(line) == {"path": "<root>", "message": line}
