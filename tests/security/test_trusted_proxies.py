"""Per-client limits behind a reverse proxy: X-Forwarded-For counts only from a trusted proxy.

Failed admin logins, user reports and subscription requests, over the whole app, on SQLite and
PostgreSQL. Unit cases of ``ClientAddress`` and the config field come first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import yaml

from monitor.config import ConfigError, parse_config
from monitor.security.client_address import DIRECT, ClientAddress
from monitor.storage.database import Database
from tests.security.support import PROXY, STRANGER, Served, served
from tests.support import FakeClock

LOGIN_LIMIT = 20  # failed attempts per client per minute (AccessGuard's default)
REPORT_LIMIT = 5  # user_reports.per_client's default
SUBSCRIBE_LIMIT = 10  # SubscriptionLimits.per_client's default
WRONG = {"authorization": "Bearer wrong-token"}


def scope(peer: str | None, *forwarded: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": None if peer is None else (peer, 1), "headers": headers}


def test_the_forwarded_address_counts_only_from_a_trusted_peer() -> None:
    clients = ClientAddress(["10.0.0.0/8", "2001:db8::/32"])
    assert clients.of_scope(scope("10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    assert clients.of_scope(scope("2001:db8::5", "198.51.100.7, 10.0.0.9")) == "198.51.100.7"
    assert clients.of_scope(scope("::ffff:10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    assert clients.of_scope(scope("203.0.113.9", "198.51.100.7")) == "203.0.113.9"
    assert clients.of_scope(scope("10.1.2.3")) == "10.1.2.3"  # a proxy's own request
    assert clients.of_scope(scope(None, "198.51.100.7")) == ""
    assert DIRECT.of_scope(scope("10.1.2.3", "198.51.100.7")) == "10.1.2.3"


def config_problems(proxies: object) -> list[str]:
    document = {
        "site": {"name": "T"},
        "components": [{"id": "a", "names": {"ja": "a", "en": "a"}, "impact_class": "access"}],
        "server": {"trusted_proxies": proxies},
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml.safe_dump(document))
    return raised.value.problems


def test_trusted_proxies_are_normalised_networks() -> None:
    document = {
        "site": {"name": "T"},
        "components": [{"id": "a", "names": {"ja": "a", "en": "a"}, "impact_class": "access"}],
        "server": {"trusted_proxies": ["10.0.0.0/8", " 192.0.2.7 ", "2001:DB8::/32"]},
    }
    config = parse_config(yaml.safe_dump(document))
    assert config.server.trusted_proxies == ("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32")
    assert ClientAddress(config.server.trusted_proxies).trusted[1].num_addresses == 1


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (["10.0.0.0/33"], "server.trusted_proxies[0]: '10.0.0.0/33' is not an IP network"),
        (["10.0.0.0/8", "proxy.internal"], "server.trusted_proxies[1]: 'proxy.internal' is not an IP network"),
        (["10.0.0.1/8"], "server.trusted_proxies[0]: '10.0.0.1/8' has host bits set; the network is 10.0.0.0/8"),
        ("10.0.0.0/8", "server.trusted_proxies: "),
    ],
)  # fmt: skip
def test_an_invalid_network_is_a_config_error_naming_the_field(given: object, problem: str) -> None:
    problems = config_problems(given)
    assert any(line.startswith(problem) for line in problems), problems


@pytest.fixture
async def app(database: Database, clock: FakeClock) -> AsyncIterator[Served]:
    async with served(database, clock) as running:
        yield running


async def login(client: httpx.AsyncClient, forwarded: str) -> int:
    answer = await client.get(
        "/api/admin/incidents", headers={**WRONG, "x-forwarded-for": forwarded}
    )
    return answer.status_code


async def test_a_spoofed_forwarded_for_does_not_escape_the_login_limit(app: Served) -> None:
    async with app.client(STRANGER) as stranger:
        statuses = [await login(stranger, f"198.51.100.{n}") for n in range(LOGIN_LIMIT)]
        assert statuses == [401] * LOGIN_LIMIT
        assert await login(stranger, "198.51.100.250") == 429  # the stranger itself is counted


async def test_behind_the_proxy_each_visitor_has_its_own_login_limit(app: Served) -> None:
    async with app.client(PROXY) as proxy:
        statuses = [await login(proxy, "198.51.100.1") for _ in range(LOGIN_LIMIT)]
        assert statuses == [401] * LOGIN_LIMIT
        assert await login(proxy, "198.51.100.1") == 429
        assert await login(proxy, "198.51.100.2") == 401  # someone else behind the same proxy
        # A visitor claiming to be someone else: the proxy appended its real address.
        assert await login(proxy, "198.51.100.2, 198.51.100.1") == 429


async def report(client: httpx.AsyncClient, forwarded: str) -> int:
    answer = await client.post(
        "/api/reports", json={"component": "trading-engine", "body": "cannot order"},
        headers={"x-forwarded-for": forwarded},
    )  # fmt: skip
    return answer.status_code


async def test_report_limits_count_visitors_behind_the_proxy_apart(app: Served) -> None:
    async with app.client(PROXY) as proxy, app.client(STRANGER) as stranger:
        assert [await report(proxy, "198.51.100.1") for _ in range(REPORT_LIMIT)] == [201] * 5
        assert await report(proxy, "198.51.100.1") == 429
        assert await report(proxy, "198.51.100.2") == 201
        assert [await report(stranger, f"192.0.2.{n}") for n in range(REPORT_LIMIT)] == [201] * 5
        assert await report(stranger, "192.0.2.99") == 429


async def subscribe(client: httpx.AsyncClient, forwarded: str, n: int) -> int:
    answer = await client.post(
        "/subscribe", json={"email": f"v{n}@example.com", "language": "en", "components": "all"},
        headers={"x-forwarded-for": forwarded},
    )  # fmt: skip
    return answer.status_code


async def test_subscription_limits_count_visitors_behind_the_proxy_apart(app: Served) -> None:
    async with app.client(PROXY) as proxy, app.client(STRANGER) as stranger:
        statuses = [await subscribe(proxy, "198.51.100.1", n) for n in range(SUBSCRIBE_LIMIT)]
        assert statuses == [202] * SUBSCRIBE_LIMIT
        assert await subscribe(proxy, "198.51.100.1", 100) == 429
        assert await subscribe(proxy, "198.51.100.2", 101) == 202
        spoofing = [await subscribe(stranger, f"192.0.2.{n}", 200 + n) for n in range(11)]
        assert spoofing == [202] * SUBSCRIBE_LIMIT + [429]
