"""Similar snippets: Jaccard ranking, non-overlapping windows, index updates, speed."""

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beastmode.completion.snippets import Snippet, SnippetIndex, identifiers, similar_snippets


def test_identifiers_are_words_of_two_or_more_characters() -> None:
    assert identifiers("x = parse_url(a.href) + 42 or _id") == {"parse_url", "href", "or", "_id"}


def test_best_window_ranks_first_with_jaccard_score() -> None:
    docs = [
        ("a.py", "alpha beta\ngamma delta"),
        ("b.py", "alpha beta\nunrelated words"),
    ]
    result = similar_snippets("alpha beta gamma", docs, window_lines=2, min_score=0.0)
    assert result == [
        Snippet("a.py", "alpha beta\ngamma delta", 3 / 4),
        Snippet("b.py", "alpha beta\nunrelated words", 2 / 5),
    ]


def test_windows_below_min_score_are_dropped() -> None:
    docs = [("a.py", "alpha\nzeta eta theta iota kappa lambda mu nu xi omicron")]
    assert similar_snippets("alpha", docs, window_lines=2, min_score=0.1) == []
    assert len(similar_snippets("alpha", docs, window_lines=2, min_score=0.05)) == 1


def test_chosen_windows_do_not_overlap() -> None:
    text = "\n".join(["foo bar"] * 3 + ["other stuff"] * 3 + ["foo bar"] * 2)
    index = SnippetIndex(window_lines=2, step=1)
    index.update("a.py", text)
    result = index.query("foo bar", max_snippets=3)
    # Lines 0-1 and 6-7 score 1.0; lines 1-2 overlap 0-1 and are skipped for lines 2-3 (0.5).
    assert [(s.text, s.score) for s in result] == [
        ("foo bar\nfoo bar", 1.0),
        ("foo bar\nfoo bar", 1.0),
        ("foo bar\nother stuff", 0.5),
    ]


def test_max_snippets_limits_the_answer() -> None:
    docs = [(f"{i}.py", "shared token") for i in range(5)]
    result = similar_snippets("shared token", docs, max_snippets=2)
    assert [s.path for s in result] == ["0.py", "1.py"]  # ties broken by path


def test_query_excludes_the_current_document() -> None:
    index = SnippetIndex()
    index.update("current.py", "needle haystack")
    index.update("other.py", "needle thread")
    assert [s.path for s in index.query("needle haystack", "current.py")] == ["other.py"]


def test_update_replaces_and_remove_forgets_a_document() -> None:
    index = SnippetIndex()
    index.update("a.py", "old_name")
    index.update("a.py", "new_name")
    assert index.query("old_name") == []
    assert [s.text for s in index.query("new_name")] == ["new_name"]
    index.remove("a.py")
    index.remove("never-indexed.py")
    assert index.query("new_name") == [] and len(index) == 0


def test_tail_of_document_gets_its_own_window() -> None:
    text = "\n".join(f"line{i}" for i in range(25)) + "\nspecial_tail"
    index = SnippetIndex(window_lines=10, step=10)
    index.update("a.py", text)
    (best,) = index.query("special_tail", max_snippets=1, min_score=0.0)
    assert best.text.endswith("special_tail") and best.text.count("\n") == 9


@pytest.mark.parametrize("cursor", ["", "   ", "1 + 2"])
def test_cursor_without_identifiers_finds_nothing(cursor: str) -> None:
    assert similar_snippets(cursor, [("a.py", "foo bar")]) == []


def test_empty_documents_are_harmless() -> None:
    assert similar_snippets("foo", [("a.py", ""), ("b.py", "\n\n")]) == []


def test_query_of_20_documents_of_2000_lines_is_fast() -> None:
    index = SnippetIndex()
    for doc in range(20):
        text = "\n".join(
            f"    value_{doc}_{i % 97} = compute_{i % 31}(self.item_{i % 53}, arg_{i % 7})"
            for i in range(2000)
        )
        index.update(f"f{doc}.py", text)
    cursor = "\n".join(f"    value_3_{i} = compute_{i}(self.item_{i}, arg_1)" for i in range(20))
    index.query(cursor)
    start = time.perf_counter()
    for _ in range(10):
        result = index.query(cursor)
    elapsed = (time.perf_counter() - start) / 10
    assert [s.path for s in result][:1] == ["f3.py"]
    # A loose bound against a regression to per-window set intersection (about 10x slower).
    assert elapsed < 0.05


def _brute_force(
    index: SnippetIndex,
    documents: dict[str, str],
    cursor_window: str,
    max_snippets: int,
    min_score: float,
) -> list[tuple[str, str, float]]:
    """Every window scored, sorted, then chosen greedily: the definition the index must match."""
    wanted = identifiers(cursor_window)
    scored = []
    for path, text in documents.items():
        lines = text.splitlines()
        size, step = index._window_lines, index._step
        last = max(0, len(lines) - size)
        starts = sorted(set(range(0, last + 1, step)) | {last})
        for start in starts:
            window = identifiers("\n".join(lines[start : start + size]))
            if not window or not wanted:
                continue
            score = len(window & wanted) / len(window | wanted)
            if window & wanted and score >= min_score:
                scored.append((score, path, start, min(len(lines), start + size)))
    scored.sort(key=lambda c: (-c[0], c[1], c[2]))
    chosen: list[tuple[float, str, int, int]] = []
    for score, path, start, end in scored:
        if any(p == path and start < e and s < end for _, p, s, e in chosen):
            continue
        chosen.append((score, path, start, end))
        if len(chosen) == max_snippets:
            break
    return [(p, "\n".join(documents[p].splitlines()[s:e]), sc) for sc, p, s, e in chosen]


@given(
    documents=st.dictionaries(
        st.sampled_from(["a.py", "b.py", "c.py"]),
        st.lists(
            st.lists(st.sampled_from([f"w{i}" for i in range(12)]), max_size=5).map(" ".join),
            max_size=40,
        ).map("\n".join),
        max_size=3,
    ),
    cursor=st.lists(st.sampled_from([f"w{i}" for i in range(12)]), max_size=12).map(" ".join),
    window_lines=st.sampled_from([2, 5, 20]),
    max_snippets=st.integers(1, 4),
    min_score=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_query_matches_scoring_every_window(
    documents: dict[str, str], cursor: str, window_lines: int, max_snippets: int, min_score: float
) -> None:
    index = SnippetIndex(window_lines=window_lines)
    for path, text in documents.items():
        index.update(path, text)
    found = index.query(cursor, max_snippets=max_snippets, min_score=min_score)
    expected = _brute_force(index, documents, cursor, max_snippets, min_score)
    assert [(s.path, s.text, s.score) for s in found] == expected
