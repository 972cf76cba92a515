"""ReplyTail: the progress line of a streamed reply, equal to `tail` of the whole reply."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from beastmode.lsp.progress import ReplyTail, tail

pieces = st.lists(st.text(alphabet="ab c\n\t😀", min_size=0, max_size=30), max_size=200)


@given(pieces)
def test_reply_tail_matches_tail_of_the_whole_reply(parts: list[str]) -> None:
    reply_tail = ReplyTail()
    for part in parts:
        reply_tail.add(part)
    assert reply_tail.text() == tail("".join(parts))


def test_reply_tail_keeps_a_bounded_window() -> None:
    reply_tail = ReplyTail()
    for _ in range(10_000):
        reply_tail.add("word " * 20)
    assert reply_tail.text() == tail("word " * 20 * 10_000)
    assert len(reply_tail._window) <= 16 * 80
