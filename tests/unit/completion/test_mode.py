"""Single-line vs multi-line decision, stop sequences and max_tokens."""

import pytest

from beastmode.completion.mode import (
    Mode,
    decide_mode,
    max_tokens_for,
    opens_block,
    stop_sequences,
)
from beastmode.completion.templates import TEMPLATES

S, M = Mode.SINGLE_LINE, Mode.MULTI_LINE


@pytest.mark.parametrize(
    ("line_prefix", "line_suffix", "language", "mode"),
    [
        ("x = foo(", ")", "python", S),  # text after the cursor
        ("print(", ") + 1", "python", S),
        ("    return ", "", "python", S),  # mid-statement at end of line
        ("x = 1", "   ", "python", S),
        ("", "", "python", M),  # empty line
        ("        ", "", "python", M),  # indentation only
        ("def f(x):", "", "python", M),
        ("if ready:  ", "", "python", M),
        ("function f() {", "", "javascript", M),
        ("function f() {", "}", "javascript", M),  # editor auto-closed the brace
        ("const x = {", "};", "typescript", M),
        ("{", "} else", "c", S),
        ("call(", "", "python", M),
        ("items = [", "", "python", M),
        ("xs.map(x =>", "", "javascript", M),
        ("5.times do", "", "ruby", M),
        ("if x then", "", "lua", M),
        ("let x:", "", "typescript", S),  # `:` is a type annotation there
        ("x:", "", "", M),  # unknown language: `:` counts
        ("redo", "", "ruby", S),  # `do` must be a word of its own
    ],
)
def test_auto_mode_table(line_prefix: str, line_suffix: str, language: str, mode: Mode) -> None:
    assert decide_mode(line_prefix, line_suffix, language=language) is mode


@pytest.mark.parametrize(
    ("setting", "line_prefix", "line_suffix", "mode"),
    [
        ("always", "x = foo(", ")", M),
        ("never", "", "", S),
        ("never", "def f():", "", S),
        ("AUTO", "", "", M),
    ],
)
def test_setting_overrides_auto(
    setting: str, line_prefix: str, line_suffix: str, mode: Mode
) -> None:
    assert decide_mode(line_prefix, line_suffix, setting=setting) is mode


def test_unknown_setting_raises_naming_valid_values() -> None:
    with pytest.raises(ValueError, match="auto, always, never"):
        decide_mode("", "", setting="sometimes")


def test_opens_block_ignores_trailing_spaces() -> None:
    assert opens_block("if x {   ") and not opens_block("   ")


@pytest.mark.parametrize(
    ("mode", "template", "expected"),
    [
        (S, None, ["\n"]),
        (M, None, ["\n\n\n"]),
        (S, "starcoder", ["\n", "<|endoftext|>", "<file_sep>", "<fim_prefix>"]),
        (M, "qwen2.5-coder", ["\n\n\n", "<|endoftext|>", "<|file_sep|>", "<|fim_pad|>"]),
        (S, "codellama", ["\n", "<EOT>", "<PRE>", "<SUF>"]),
        (M, "codestral", ["\n\n\n", "</s>", "[PREFIX]", "[SUFFIX]"]),
    ],
)
def test_stop_sequences_put_mode_stop_first_and_keep_four(
    mode: Mode, template: str | None, expected: list[str]
) -> None:
    assert stop_sequences(mode, TEMPLATES[template] if template else None) == expected


@pytest.mark.parametrize("mode", [S, M])
def test_chat_prompt_stops_at_closing_tag_only(mode: Mode) -> None:
    assert stop_sequences(mode, None, chat=True) == ["</COMPLETION>"]


@pytest.mark.parametrize(
    ("mode", "model_max", "expected"),
    [(S, 4000, 64), (M, 4000, 256), (M, 100, 100), (S, 10, 10), (S, 0, 1)],
)
def test_max_tokens_never_above_the_models(mode: Mode, model_max: int, expected: int) -> None:
    assert max_tokens_for(mode, model_max) == expected
