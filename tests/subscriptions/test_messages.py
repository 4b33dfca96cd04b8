"""Every subscription page string exists in Japanese and English, and every key is used."""

from __future__ import annotations

import re
from importlib.resources import files

from monitor.subscriptions.tokens import Rejection
from statuspage.messages_subscribe import MESSAGES

LANGUAGES = ("ja", "en")


def test_every_key_has_both_languages_and_the_same_placeholders() -> None:
    for key, texts in MESSAGES.items():
        assert key.startswith("subscribe."), key
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        names = [set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in LANGUAGES]
        assert names[0] == names[1], key


def test_every_key_the_templates_use_exists() -> None:
    templates = files("statuspage").joinpath("templates")
    used: set[str] = set()
    for entry in templates.iterdir():
        if entry.name.startswith("subscribe_"):
            used |= set(re.findall(r"""t\(["'](subscribe\.[\w.]+)["']""", entry.read_text()))
    dynamic = {key for key in used if key.endswith(".")}  # e.g. "subscribe.invalid." ~ reason
    assert used - dynamic <= set(MESSAGES)
    assert dynamic == {"subscribe.invalid."}


def test_the_keys_built_from_outcomes_exist() -> None:
    for reason in Rejection:
        assert f"subscribe.invalid.{reason.value}" in MESSAGES
    for scope in ("client", "address", "everyone"):  # limits.Refused.scope
        assert f"subscribe.limit.{scope}" in MESSAGES
