"""Rendezvous hashing: one owner per check, minimal moves when agents come and go, balance."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from monitor.agent.rendezvous import owned, owner, weight

AGENT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
AGENTS = st.lists(AGENT, min_size=1, max_size=8, unique=True)
CHECKS = st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=40, unique=True)


@given(AGENTS, CHECKS)
def test_every_check_is_owned_by_exactly_one_live_agent(
    agents: list[str], checks: list[str]
) -> None:
    shares = [owned(checks, agents, me) for me in agents]
    assert sum(len(share) for share in shares) == len(checks)  # no check twice
    assert frozenset().union(*shares) == set(checks)  # none missing
    for check in checks:
        assert owner(check, agents) in agents


@given(AGENTS, CHECKS, AGENT)
def test_a_joining_agent_takes_checks_only_from_their_owners(
    agents: list[str], checks: list[str], newcomer: str
) -> None:
    if newcomer in agents:
        return
    for check in checks:
        before, after = owner(check, agents), owner(check, [*agents, newcomer])
        assert after in (before, newcomer)  # a check moves only to the newcomer


@given(AGENTS.filter(lambda agents: len(agents) > 1), CHECKS, st.data())
def test_a_leaving_agent_moves_only_the_checks_it_owned(
    agents: list[str], checks: list[str], data: st.DataObject
) -> None:
    leaver = data.draw(st.sampled_from(agents))
    rest = [agent for agent in agents if agent != leaver]
    for check in checks:
        before = owner(check, agents)
        if before != leaver:
            assert owner(check, rest) == before


@given(AGENTS, CHECKS, st.randoms(use_true_random=False))
def test_the_order_of_the_agents_does_not_matter(
    agents: list[str], checks: list[str], shuffler: random.Random
) -> None:
    shuffled = list(agents)
    shuffler.shuffle(shuffled)
    for me in agents:
        assert owned(checks, agents, me) == owned(checks, shuffled, me)


def test_many_checks_spread_roughly_evenly() -> None:
    agents = [f"host-{n}-a1b2c3" for n in range(5)]
    counts = Counter(owner(f"check-{n}", agents) for n in range(5000))
    assert set(counts) == set(agents)
    assert all(800 <= count <= 1200 for count in counts.values()), counts  # 1000 each, ±20 %


def test_an_agent_missing_from_the_list_counts_itself_live() -> None:
    checks = [f"check-{n}" for n in range(200)]
    mine = owned(checks, ["other-agent"], "me")
    assert mine == owned(checks, ["me", "other-agent"], "me") and 0 < len(mine) < 200


def test_the_weight_depends_on_both_ids_and_not_on_their_split() -> None:
    assert weight("a", "bc") != weight("ab", "c")
    assert weight("a", "b") == weight("a", "b") != weight("b", "a")
