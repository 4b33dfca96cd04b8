"""A fan-out's mails from the stencil are exactly what rendering each one in full gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from notifiers.channel import Links
from notifiers.email.render import Renderer
from tests.notifiers.email_support import delivery, notice

TOKENS = st.text(
    alphabet=st.sampled_from("abcXYZ019-_.~&<>\"'=%"), min_size=1, max_size=40
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    tokens=st.lists(TOKENS, min_size=1, max_size=6), language=st.sampled_from(["ja", "en", None])
)
def test_stencilled_mails_equal_full_renderings(tokens: list[str], language: str | None) -> None:
    stencilled, full = Renderer(), Renderer()
    the_notice = notice()
    # Plain links first: the stencil is trusted after two, then meets the generated ones.
    for number, token in enumerate(["first", "second", "third", *tokens]):
        links = Links(
            unsubscribe_url=f"https://status.example.com/unsubscribe?token={token}",
            manage_url=f"https://status.example.com/manage?token={token}",
        )
        mail = delivery(the_notice, delivery_id=number, language=language, links=links)
        # A fresh notice each time keeps the second renderer off its stencil: always in full.
        alone = delivery(notice(), delivery_id=number, language=language, links=links)
        assert stencilled.render(mail) == full.render(alone)
