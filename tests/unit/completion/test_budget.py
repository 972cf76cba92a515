"""Token estimate and prompt budgeting: line-boundary cuts, 3/4 : 1/4 split, snippets last."""

import pytest

from beastmode.completion.budget import (
    PromptBudget,
    estimate_tokens,
    fit_to_budget,
    keep_prefix_tail,
    keep_suffix_head,
    prompt_token_budget,
    snippet_cost,
)
from beastmode.completion.snippets import Snippet


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("a", 1), ("abc", 1), ("abcd", 2), ("x" * 7, 2), ("x" * 8, 3)]
)
def test_estimate_is_characters_over_three_and_a_half_rounded_up(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def lines(prefix: str, count: int) -> str:
    """`count` lines of 7 characters with the newline (2 tokens per line)."""
    return "".join(f"{prefix}{i:05d}\n" for i in range(count))


def test_everything_fits_unchanged() -> None:
    result = fit_to_budget("abc\n", "def\n", (), max_prompt_tokens=100)
    assert result == PromptBudget("abc\n", "def\n", ())


def test_prefix_keeps_lines_nearest_the_cursor() -> None:
    prefix = lines("p", 10) + "    ret"
    # No suffix, so the prefix gets all 16 tokens = 56 characters: the cursor line and 7 lines.
    result = fit_to_budget(prefix, "", (), max_prompt_tokens=16)
    assert result.prefix == lines("p", 10)[3 * 7 :] + "    ret"


def test_suffix_keeps_lines_nearest_the_cursor() -> None:
    suffix = ")\n" + lines("s", 10)
    result = fit_to_budget("", suffix, (), max_prompt_tokens=6)
    assert result.suffix == ")\ns00000\ns00001\n"


def test_prefix_gets_three_quarters_when_both_overflow() -> None:
    prefix, suffix = lines("p", 100), lines("s", 100)
    result = fit_to_budget(prefix, suffix, (), max_prompt_tokens=40)
    assert result.prefix == lines("p", 100)[-7 * 15 :]  # 30 tokens = 105 chars = 15 lines
    assert result.suffix == lines("s", 5)  # 10 tokens = 35 chars = 5 lines


def test_unused_suffix_share_flows_to_prefix() -> None:
    prefix = lines("p", 100)
    result = fit_to_budget(prefix, "s\n", (), max_prompt_tokens=40)
    assert result.suffix == "s\n"
    assert estimate_tokens(result.prefix) == 38  # 40 minus the suffix's 1, rounded to lines
    assert result.prefix == prefix[-7 * 19 :]


def test_unused_prefix_share_flows_to_suffix() -> None:
    suffix = lines("s", 100)
    result = fit_to_budget("p\n", suffix, (), max_prompt_tokens=40)
    assert result.prefix == "p\n"
    assert result.suffix == lines("s", 19)


def test_overlong_cursor_line_keeps_its_last_characters() -> None:
    assert keep_prefix_tail("a\n" + "x" * 50 + "CURSOR", 4) == "x" * 8 + "CURSOR"


def test_overlong_first_suffix_line_keeps_its_first_characters() -> None:
    assert keep_suffix_head("y" * 50 + "\nz\n", 2) == "yyyyyyy"


def test_prefix_cut_that_lands_on_a_line_start_keeps_that_line() -> None:
    assert keep_prefix_tail("aaaaaa\nbbbbbb\n", 2) == "bbbbbb\n"


@pytest.mark.parametrize("budget", [0, -5])
def test_no_budget_keeps_nothing(budget: int) -> None:
    result = fit_to_budget("abc", "def", (Snippet("a", "b", 1.0),), max_prompt_tokens=budget)
    assert result == PromptBudget("", "", ())


def test_snippets_come_only_from_what_is_left_in_rank_order() -> None:
    big = Snippet("big.py", "x" * 70, 0.9)  # path 2 + text 20 + 1 line + 4 = 27
    small = Snippet("s.py", "y = 1", 0.5)  # path 2 + text 2 + 1 line + 4 = 9
    assert (snippet_cost(big), snippet_cost(small)) == (27, 9)
    result = fit_to_budget("a = 1\n", "", (big, small), max_prompt_tokens=20)
    assert result.snippets == (small,)  # big is skipped, the next one still fits
    result = fit_to_budget("a = 1\n", "", (big, small), max_prompt_tokens=40)
    assert result.snippets == (big, small)


def test_full_prefix_leaves_no_room_for_snippets_by_default() -> None:
    snippet = Snippet("s.py", "y = 1", 0.5)
    result = fit_to_budget(lines("p", 100), "", (snippet,), max_prompt_tokens=40)
    assert result.snippets == ()


def test_snippet_share_reserves_room_before_cutting_code() -> None:
    snippet = Snippet("s.py", "y = 1", 0.5)
    result = fit_to_budget(
        lines("p", 100), "", (snippet,), max_prompt_tokens=40, snippet_share=0.25
    )
    assert result.snippets == (snippet,)
    assert result.prefix == lines("p", 100)[-7 * 15 :]


def test_snippet_share_goes_back_to_code_when_no_snippet_fits() -> None:
    huge = Snippet("s.py", "y" * 1000, 0.5)
    with_share = fit_to_budget(
        lines("p", 100), "", (huge,), max_prompt_tokens=40, snippet_share=0.5
    )
    without = fit_to_budget(lines("p", 100), "", (), max_prompt_tokens=40)
    assert with_share == without


@pytest.mark.parametrize("budget", [1, 7, 33, 100, 1000])
def test_result_never_exceeds_the_budget(budget: int) -> None:
    prefix = lines("p", 200) + "  x = "
    suffix = "\n" + lines("s", 200)
    snippets = tuple(Snippet(f"f{i}.py", lines("q", i + 1), 1.0 - i / 10) for i in range(5))
    result = fit_to_budget(prefix, suffix, snippets, max_prompt_tokens=budget)
    used = estimate_tokens(result.prefix) + estimate_tokens(result.suffix)
    used += sum(snippet_cost(s) for s in result.snippets)
    assert used <= budget
    assert prefix.endswith(result.prefix) and suffix.startswith(result.suffix)


@pytest.mark.parametrize(
    ("window", "max_tokens", "reserve", "expected"),
    [(8192, 256, 64, 7872), (8192, 64, 0, 8128), (100, 90, 64, 0)],
)
def test_prompt_token_budget(window: int, max_tokens: int, reserve: int, expected: int) -> None:
    assert prompt_token_budget(window, max_tokens, reserve) == expected


def test_prompt_token_budget_default_reserve_is_64() -> None:
    assert prompt_token_budget(1000, 100) == 836
