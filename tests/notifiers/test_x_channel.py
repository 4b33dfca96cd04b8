"""The X channel against a local fake X API: threads, weighting, rate limits and refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import yaml

from monitor.config import Config, parse_config
from monitor.notices import Kind, Text
from notifiers.channel import Closable, Outcome
from notifiers.x import MissingCredentialError, XPoster, build_x_channel
from notifiers.x.length import MAX_WEIGHTED_LENGTH, weighted_length
from tests.notifiers.fake_x_api import (
    INCIDENT_URL,
    Answer,
    FakeXApi,
    delivery_to,
    duplicate,
    incident_notice,
    rate_limited,
    unavailable,
)

NOW = 1_800_000_000.0
ACCOUNTS = [
    {"name": "ja", "language": "ja", "credentials_env_prefix": "X_JA"},
    {"name": "en", "language": "en", "credentials_env_prefix": "X_EN"},
    {"name": "both", "language": "both", "credentials_env_prefix": "X_BOTH"},
]


def env_for(*prefixes: str) -> dict[str, str]:
    keys = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
    return {f"{p}_{k}": f"{p.lower()}-{k.lower()}" for p in prefixes for k in keys}


ENV = env_for("X_JA", "X_EN", "X_BOTH")


def config_with(x: dict[str, Any] | None) -> Config:
    document: dict[str, Any] = {
        "site": {"name": "Example Exchange"},
        "components": [
            {
                "id": "trading-engine",
                "names": {"ja": "取引エンジン", "en": "Trading engine"},
                "impact_class": "trading",
            }
        ],
    }
    if x is not None:
        document["notifications"] = {"x": x}
    return parse_config(yaml.safe_dump(document, allow_unicode=True), env={})


@pytest.fixture
def fake() -> Iterator[FakeXApi]:
    with FakeXApi() as api:
        yield api


@pytest.fixture
async def channel(fake: FakeXApi) -> AsyncIterator[XPoster]:
    config = config_with({"accounts": ACCOUNTS, "api_base_url": fake.base_url})
    poster = build_x_channel(config, ENV, clock=lambda: NOW)
    assert poster is not None
    try:
        yield poster
    finally:
        await poster.aclose()


async def test_x_thread_replies_chain_to_the_previous_post(
    channel: XPoster, fake: FakeXApi
) -> None:
    thread: tuple[str, ...] = ()
    steps: list[tuple[Kind, str, Text]] = [
        ("incident_opened", "investigating", Text("調査中です。", "Investigating.")),
        ("update_posted", "identified", Text("原因を特定しました。", "Cause identified.")),
        ("incident_resolved", "resolved", Text("復旧しました。", "Resolved.")),
    ]
    for event_id, (kind, status, body) in enumerate(steps, start=1):
        notice = incident_notice(body, kind=kind, status=status, event_id=event_id)
        outcome = await channel.send(delivery_to("ja", notice, thread))
        assert outcome.outcome is Outcome.OK and outcome.external_id in fake.posts
        thread += (outcome.external_id,)  # what the dispatcher stores

    first, update, resolved = fake.requests
    assert [r.path for r in fake.requests] == ["/2/tweets"] * 3
    assert all(r.oauth_signed for r in fake.requests)
    assert 'oauth_consumer_key="x_ja-consumer_key"' in first.headers["authorization"]
    assert first.in_reply_to is None
    assert update.in_reply_to == thread[0] and resolved.in_reply_to == thread[1]
    assert first.text == f"[障害] 大規模障害 — 調査中\n調査中です。\n{INCIDENT_URL}"
    assert resolved.text.startswith("[障害] 大規模障害 — 解決済み\n復旧しました。")


async def test_x_accounts_post_in_their_language(channel: XPoster, fake: FakeXApi) -> None:
    notice = incident_notice(Text("調査中です。", "Investigating."))
    for account in ("en", "both"):
        assert (await channel.send(delivery_to(account, notice))).outcome is Outcome.OK
    english, both = fake.requests
    assert english.text.startswith("[Incident] Major outage — Investigating\n")
    assert 'oauth_consumer_key="x_en-consumer_key"' in english.headers["authorization"]
    assert both.text.index("調査中です。") < both.text.index("Investigating.")


@pytest.mark.parametrize(
    ("body", "language"),
    [
        (Text("注文の約定に遅延が発生しています。" * 20, "x"), "ja"),
        (Text("x", "Orders are delayed while we investigate. " * 20), "en"),
        (Text("遅延 😷👩\u200d💻 https://example.com/a " * 15, "Delay 🇯🇵 " * 60), "both"),
    ],
)
async def test_x_long_updates_are_cut_to_280_weighted(
    channel: XPoster, fake: FakeXApi, body: Text, language: str
) -> None:
    assert (await channel.send(delivery_to(language, incident_notice(body)))).outcome is Outcome.OK
    posted = fake.requests[-1].text
    assert len(posted) > 140 and weighted_length(posted) <= MAX_WEIGHTED_LENGTH
    assert posted.endswith("\n" + INCIDENT_URL) and "…" in posted


async def test_x_rate_limit_is_retryable_after_the_reset(channel: XPoster, fake: FakeXApi) -> None:
    fake.fail_next(rate_limited(int(NOW) + 90))
    outcome = await channel.send(delivery_to("ja", incident_notice()))
    assert outcome.outcome is Outcome.RETRYABLE
    assert outcome.retry_after == 90.0 and "429" in outcome.reason
    assert len(fake.requests) == 1  # tweepy neither slept nor retried by itself


async def test_x_duplicate_content_is_permanent(channel: XPoster, fake: FakeXApi) -> None:
    fake.fail_next(duplicate())
    outcome = await channel.send(delivery_to("ja", incident_notice()))
    assert outcome.outcome is Outcome.PERMANENT and "duplicate" in outcome.reason


async def test_x_server_error_is_retryable(channel: XPoster, fake: FakeXApi) -> None:
    fake.fail_next(unavailable())
    outcome = await channel.send(delivery_to("ja", incident_notice()))
    assert outcome.outcome is Outcome.RETRYABLE and "503" in outcome.reason
    assert (await channel.send(delivery_to("ja", incident_notice()))).outcome is Outcome.OK


async def test_x_other_client_errors_are_permanent(channel: XPoster, fake: FakeXApi) -> None:
    fake.fail_next(Answer(401, {"title": "Unauthorized", "detail": "Unauthorized"}))
    outcome = await channel.send(delivery_to("ja", incident_notice()))
    assert outcome.outcome is Outcome.PERMANENT and "401" in outcome.reason


async def test_x_unknown_account_is_permanent(channel: XPoster) -> None:
    outcome = await channel.send(delivery_to("nobody", incident_notice()))
    assert outcome.outcome is Outcome.PERMANENT and "nobody" in outcome.reason


async def test_x_unreachable_api_is_retryable() -> None:
    with FakeXApi() as fake:
        base_url = fake.base_url  # closed when the block ends: nothing listens there
    built = build_x_channel(config_with({"accounts": ACCOUNTS[:1], "api_base_url": base_url}), ENV)
    assert built is not None
    try:
        outcome = await built.send(delivery_to("ja", incident_notice()))
    finally:
        await built.aclose()
    assert outcome.outcome is Outcome.RETRYABLE and "unreachable" in outcome.reason


def test_x_channel_is_built_only_when_configured() -> None:
    assert build_x_channel(config_with(None), ENV) is None
    built = build_x_channel(config_with({"accounts": ACCOUNTS[:1]}), ENV)
    assert isinstance(built, XPoster) and isinstance(built, Closable)


def test_x_missing_credential_names_the_variable() -> None:
    env = {k: v for k, v in ENV.items() if k != "X_EN_ACCESS_TOKEN_SECRET"}
    with pytest.raises(MissingCredentialError, match="X_EN_ACCESS_TOKEN_SECRET"):
        build_x_channel(config_with({"accounts": ACCOUNTS}), env)
