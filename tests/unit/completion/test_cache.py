"""Typed-through cache: typed prefix of the shown suggestion, mismatches, full typing, bounds."""

import pytest

from beastmode.completion.cache import ANCHOR_CONTEXT_CHARS, TypedThroughCache

URI = "file:///a.py"
BEFORE = "import os\n\ndef main():\n    path = "


def test_typing_a_prefix_of_the_suggestion_returns_the_rest() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "os.getcwd()")
    assert cache.lookup(URI, BEFORE + "os.") == "getcwd()"
    assert cache.lookup(URI, BEFORE + "os.getcw") == "d()"


def test_same_position_returns_the_whole_suggestion() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "os.getcwd()")
    assert cache.lookup(URI, BEFORE) == "os.getcwd()"


@pytest.mark.parametrize(
    "prefix_text",
    [
        BEFORE + "os.x",  # typed something else
        BEFORE[:-1],  # deleted before the anchor
        BEFORE.replace("path", "pith") + "os.",  # same length, changed near the cursor
        "# new line\n" + BEFORE + "os.",  # inserted above: the anchor moved
    ],
)
def test_mismatch_misses(prefix_text: str) -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "os.getcwd()")
    assert cache.lookup(URI, prefix_text) is None


def test_fully_typed_suggestion_misses() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "os.getcwd()")
    assert cache.lookup(URI, BEFORE + "os.getcwd()") is None


def test_other_document_misses_and_forget_drops_entries() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "x")
    assert cache.lookup("file:///b.py", BEFORE) is None
    cache.forget(URI)
    assert cache.lookup(URI, BEFORE) is None and len(cache) == 0


def test_multi_line_suggestion_typed_through_a_newline() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, "def f():", "\n    return 1\n")
    assert cache.lookup(URI, "def f():\n    ret") == "urn 1\n"


def test_windowed_prefix_text_with_offset_matches_full_text() -> None:
    document_before = "x" * 10_000 + BEFORE
    cache = TypedThroughCache()
    cache.remember(
        URI, document_before[-2000:], "os.sep", prefix_offset=len(document_before) - 2000
    )
    typed = document_before + "os."
    assert cache.lookup(URI, typed) == "sep"
    assert cache.lookup(URI, typed[-2000:], prefix_offset=len(typed) - 2000) == "sep"


def test_window_too_short_to_check_the_anchor_misses() -> None:
    document_before = "y" * 5000
    cache = TypedThroughCache()
    cache.remember(URI, document_before, "abc")
    short = (document_before + "a")[-10:]
    assert cache.lookup(URI, short, prefix_offset=5001 - 10) is None


def test_only_the_text_right_before_the_anchor_is_compared() -> None:
    # Documented trade-off: a same-length edit further back than the kept context goes unseen.
    before = "a" * 1000 + "b" * ANCHOR_CONTEXT_CHARS
    cache = TypedThroughCache()
    cache.remember(URI, before, "cd")
    assert cache.lookup(URI, "z" + before[1:] + "c") == "d"


def test_newest_matching_suggestion_wins() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "os.getcwd()")
    cache.remember(URI, BEFORE, "os.sep")
    assert cache.lookup(URI, BEFORE + "os.") == "sep"
    cache.remember(URI, BEFORE + "os.", "environ")
    assert cache.lookup(URI, BEFORE + "os.env") == "iron"


def test_cache_is_bounded_least_recently_used_first() -> None:
    cache = TypedThroughCache(max_entries=3)
    for i in range(3):
        cache.remember(f"file:///{i}", "p", f"s{i}")
    assert cache.lookup("file:///0", "p") == "s0"  # touch 0: 1 is now the oldest
    cache.remember("file:///3", "p", "s3")
    assert len(cache) == 3
    assert cache.lookup("file:///1", "p") is None
    assert [cache.lookup(f"file:///{i}", "p") for i in (0, 2, 3)] == ["s0", "s2", "s3"]


def test_default_bound_is_64() -> None:
    cache = TypedThroughCache()
    for i in range(100):
        cache.remember(URI, "p" * i, "s")
    assert len(cache) == 64


def test_empty_suggestion_is_not_remembered() -> None:
    cache = TypedThroughCache()
    cache.remember(URI, BEFORE, "")
    assert len(cache) == 0
