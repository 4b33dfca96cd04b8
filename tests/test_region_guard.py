"""The connectivity guard: a region that loses its network is held back, a real outage is not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.region_guard import RegionGuard


def feed(guard: RegionGuard, region: str, failing: int, passing: int, now: float = 100.0) -> None:
    for i in range(failing + passing):
        guard.observe(region, f"check-{i}", f"component-{i % 5}", i >= failing, now)


def test_a_region_failing_everything_while_others_are_fine_is_held_back() -> None:
    guard = RegionGuard()
    feed(guard, "tokyo", failing=20, passing=0)
    feed(guard, "osaka", failing=1, passing=19)
    assert guard.held_back("tokyo", 100.0)
    assert not guard.held_back("osaka", 100.0)


def test_everyone_failing_is_an_outage_not_a_network_problem() -> None:
    guard = RegionGuard()
    feed(guard, "tokyo", failing=20, passing=0)
    feed(guard, "osaka", failing=20, passing=0)
    assert not guard.held_back("tokyo", 100.0)


def test_a_single_region_is_never_held_back() -> None:
    guard = RegionGuard()
    feed(guard, "local", failing=50, passing=0)
    assert not guard.held_back("local", 100.0)


def test_few_checks_or_old_results_do_not_count() -> None:
    guard = RegionGuard()
    feed(guard, "tokyo", failing=5, passing=0)  # below min_checks
    feed(guard, "osaka", failing=0, passing=20)
    assert not guard.held_back("tokyo", 100.0)
    feed(guard, "tokyo", failing=20, passing=0, now=0.0)
    assert not guard.held_back("tokyo", 500.0)  # all outside the window


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 30), st.booleans()), max_size=120
    )
)
def test_a_region_is_held_back_only_when_another_sees_the_targets_up(
    results: list[tuple[str, int, bool]],
) -> None:
    guard = RegionGuard()
    for region, check, ok in results:
        guard.observe(region, f"c{check}", f"comp{check % 4}", ok, 10.0)
    for region in ("a", "b"):
        if guard.held_back(region, 10.0):
            other = "b" if region == "a" else "a"
            assert not guard.held_back(other, 10.0)


def test_another_region_passing_other_checks_is_no_evidence() -> None:
    guard = RegionGuard()
    feed(guard, "tokyo", failing=20, passing=0)
    for i in range(20):  # osaka runs different checks, all fine
        guard.observe("osaka", f"other-{i}", f"component-{i % 5}", True, 100.0)
    assert not guard.held_back("tokyo", 100.0)
