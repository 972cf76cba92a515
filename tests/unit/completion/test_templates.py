"""FIM templates: exact rendered prompts, stop tokens and the `auto` selection table."""

import pytest

from beastmode.completion.snippets import Snippet
from beastmode.completion.templates import (
    TEMPLATES,
    comment_prefix,
    resolve_template,
)

PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"
SNIPPETS = (Snippet("lib/util.py", "def sub(a, b):\n    return a - b", 0.5),)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("starcoder", f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"),
        ("codellama", f"<PRE> {PREFIX} <SUF>{SUFFIX} <MID>"),
        ("deepseek-coder", f"<｜fim▁begin｜>{PREFIX}<｜fim▁hole｜>{SUFFIX}<｜fim▁end｜>"),
        ("qwen2.5-coder", f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"),
        ("codestral", f"[SUFFIX]{SUFFIX}[PREFIX]{PREFIX}"),
        ("codegemma", f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"),
        ("granite", f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"),
    ],
)
def test_template_renders_exact_prompt_without_snippets(name: str, expected: str) -> None:
    assert TEMPLATES[name].render(PREFIX, SUFFIX, file_path="src/calc.py") == expected


COMMENTED = "# Path: lib/util.py\n# def sub(a, b):\n#     return a - b\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "starcoder",
            "<file_sep>lib/util.py\ndef sub(a, b):\n    return a - b\n"
            f"<file_sep><fim_prefix>src/calc.py\n{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>",
        ),
        (
            "qwen2.5-coder",
            "<|file_sep|>lib/util.py\ndef sub(a, b):\n    return a - b\n"
            f"<|file_sep|>src/calc.py\n<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
        ),
        ("codellama", f"<PRE> {COMMENTED}{PREFIX} <SUF>{SUFFIX} <MID>"),
        (
            "deepseek-coder",
            f"<｜fim▁begin｜>{COMMENTED}{PREFIX}<｜fim▁hole｜>{SUFFIX}<｜fim▁end｜>",
        ),
        ("codestral", f"[SUFFIX]{SUFFIX}[PREFIX]{COMMENTED}{PREFIX}"),
        (
            "codegemma",
            f"<|fim_prefix|>{COMMENTED}{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
        ),
        ("granite", f"<fim_prefix>{COMMENTED}{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"),
    ],
)
def test_template_places_snippets_in_family_convention(name: str, expected: str) -> None:
    rendered = TEMPLATES[name].render(
        PREFIX, SUFFIX, file_path="src/calc.py", repo_snippets=SNIPPETS
    )
    assert rendered == expected


def test_qwen_repo_format_names_untitled_file_when_path_unknown() -> None:
    rendered = TEMPLATES["qwen2.5-coder"].render("a", "b", repo_snippets=SNIPPETS)
    assert rendered.endswith("<|file_sep|>untitled\n<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>")


def test_snippet_comments_follow_the_current_files_language() -> None:
    rendered = TEMPLATES["codellama"].render(
        "x", "y", file_path="web/app.ts", repo_snippets=(Snippet("a.ts", "let a = 1;", 1.0),)
    )
    assert rendered == "<PRE> // Path: a.ts\n// let a = 1;\nx <SUF>y <MID>"


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        (None, "//"),
        ("a.py", "#"),
        ("dir/Makefile", "#"),
        ("x.lua", "--"),
        ("C:\\proj\\init.el", ";"),
        ("main.go", "//"),
        ("README", "//"),
        ("paper.tex", "%"),
    ],
)
def test_comment_prefix_by_file_name(path: str | None, marker: str) -> None:
    assert comment_prefix(path) == marker


@pytest.mark.parametrize(
    ("name", "stops"),
    [
        ("starcoder", ("<|endoftext|>", "<file_sep>")),
        ("codellama", ("<EOT>",)),
        ("deepseek-coder", ("<｜end▁of▁sentence｜>",)),
        ("qwen2.5-coder", ("<|endoftext|>", "<|file_sep|>", "<|fim_pad|>", "<|repo_name|>")),
        ("codestral", ("</s>",)),
        ("codegemma", ("<|file_separator|>",)),
        ("granite", ("<|endoftext|>",)),
    ],
)
def test_template_stops_start_with_end_tokens(name: str, stops: tuple[str, ...]) -> None:
    assert TEMPLATES[name].stop[: len(stops)] == stops


def test_template_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TEMPLATES["mine"] = TEMPLATES["starcoder"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("model_name", "family"),
    [
        ("bigcode/starcoder2-15b", "starcoder"),
        ("StarCoderBase-1B", "starcoder"),
        ("bigcode/santacoder", "starcoder"),
        ("codellama:7b-code", "codellama"),
        ("meta/Code-Llama-13b", "codellama"),
        ("deepseek-coder:6.7b-base", "deepseek-coder"),
        ("DeepSeek-Coder-V2-Lite-Base", "deepseek-coder"),
        ("qwen2.5-coder:7b", "qwen2.5-coder"),
        ("Qwen/Qwen2.5-Coder-1.5B", "qwen2.5-coder"),
        ("codestral-latest", "codestral"),
        ("codegemma:2b-code", "codegemma"),
        ("granite-code:8b", "granite"),
        ("ibm-granite/granite-3b-code-base", "granite"),
    ],
)
def test_auto_picks_family_from_model_name(model_name: str, family: str) -> None:
    template = resolve_template("auto", model_name)
    assert template is not None
    assert template.name == family


@pytest.mark.parametrize(
    "model_name", ["gpt-4o-mini", "claude-3-5-sonnet", "llama3.1:8b", "qwen2.5:7b", "deepseek-r1"]
)
def test_auto_gives_none_for_models_without_known_fim(model_name: str) -> None:
    assert resolve_template("auto", model_name) is None


def test_none_setting_means_chat_prompt_even_for_fim_model_names() -> None:
    assert resolve_template("none", "qwen2.5-coder:7b") is None


@pytest.mark.parametrize("setting", ["codestral", "CodeGemma", " granite "])
def test_named_family_is_used_whatever_the_model_name(setting: str) -> None:
    template = resolve_template(setting, "my-private-model")
    assert template is TEMPLATES[setting.strip().lower()]


def test_unknown_family_raises_naming_valid_values() -> None:
    with pytest.raises(ValueError, match=r"'fim-o-matic'.*auto, none, starcoder, codellama"):
        resolve_template("fim-o-matic", "x")
