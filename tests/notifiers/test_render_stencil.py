"""A fan-out's mails from the stencil are exactly what rendering each one in full gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.notices import Text
from notifiers.channel import Delivery, Links
from notifiers.email.render import Rendered, Renderer
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
        # Another event each time keeps the second renderer off its stencil: always in full.
        alone = delivery(
            notice(event_id=1000 + number), delivery_id=number, language=language, links=links
        )
        assert stencilled.render(mail) == full.render(alone)


class CountingRenderer(Renderer):
    """Counts full renderings (the stencil's fills are not counted)."""

    full = 0

    def _render(self, delivery: Delivery) -> Rendered:
        self.full += 1
        return super()._render(delivery)


def _links(number: int) -> Links:
    return Links(unsubscribe_url=f"https://status.example.com/u?t={number}", manage_url=None)


def test_an_equal_notice_read_again_keeps_the_stencil() -> None:
    # The dispatcher reads the notice afresh for every batch: equal, but another object.
    renderer = CountingRenderer()
    for number in range(3):
        renderer.render(delivery(notice(), delivery_id=number, links=_links(number)))
    trusted = renderer.full
    for number in range(3, 10):
        mail = delivery(notice(), delivery_id=number, links=_links(number))
        assert renderer.render(mail) == Renderer().render(mail)
    assert renderer.full == trusted


def test_a_changed_notice_is_rendered_again() -> None:
    renderer = CountingRenderer()
    for number in range(4):
        renderer.render(delivery(notice(), delivery_id=number, links=_links(number)))
    before = renderer.full
    changed = notice(update_status="identified", body=Text("修正中。", "A fix is being deployed."))
    mail = delivery(changed, delivery_id=9, links=_links(9))
    rendered = renderer.render(mail)
    assert renderer.full > before
    assert "A fix is being deployed." in rendered.text
