"""The stencil cache: kept while the notice is equal, the oldest dropped when full."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.notices import Notice
from notifiers.email.stencils import Stencils
from tests.notifiers.email_support import notice


@dataclass
class Made:
    notice: Notice


def test_an_equal_notice_finds_the_stencil_and_a_changed_one_does_not() -> None:
    stencils: Stencils[Made] = Stencils(4)
    kept = stencils.keep("k", Made(notice()))
    again = notice()  # read afresh: equal, another object
    assert stencils.find("k", again) is kept and kept.notice is again
    assert stencils.find("k", notice(update_status="identified")) is None
    assert stencils.find("other", again) is None


def test_the_oldest_stencil_goes_first_when_full() -> None:
    stencils: Stencils[Made] = Stencils(2)
    for key in ("a", "b", "a", "c"):  # "a" replaced in place: one entry, still the oldest
        stencils.keep(key, Made(notice()))
    assert stencils.find("a", notice()) is None
    assert stencils.find("b", notice()) is not None and stencils.find("c", notice()) is not None
