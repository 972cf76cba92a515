"""Fill-in-the-middle prompt templates for the common code-model families.

A FIM model is trained to read the code before and after the cursor wrapped in its own special
tokens and to write the missing middle. Each family spells those tokens differently, and a wrong
spelling silently turns them into plain text, so the spellings below follow each model's
published tokenizer/model card. Snippets from other files use the family's repository format
where it has one (StarCoder2's `<file_sep>`, Qwen2.5-Coder's `<|file_sep|>`), otherwise they
become a comment block at the top of the prefix, in the comment syntax of the current file.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from beastmode.completion.snippets import Snippet

_Renderer = Callable[[str, str, str | None, Sequence[Snippet]], str]

# Extensions whose line comments are not `//`.
_LINE_COMMENTS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ("py", "pyi", "rb", "sh", "bash", "zsh", "fish", "pl", "r", "yaml", "yml", "toml"),
            "#",
        ),
        **dict.fromkeys(("ex", "exs", "jl", "nim", "cmake", "ps1", "tf", "mk"), "#"),
        **dict.fromkeys(("lua", "sql", "hs", "elm", "ada", "vhdl"), "--"),
        **dict.fromkeys(("el", "lisp", "clj", "cljs", "scm", "rkt", "asm"), ";"),
        **dict.fromkeys(("tex", "erl", "hrl", "m"), "%"),
        **dict.fromkeys(("vim",), '"'),
        **dict.fromkeys(("bat", "cmd"), "REM"),
    }
)
_FILE_NAME_COMMENTS: Mapping[str, str] = MappingProxyType(
    {"makefile": "#", "dockerfile": "#", "gemfile": "#", "rakefile": "#"}
)


def comment_prefix(file_path: str | None) -> str:
    """Return the line-comment marker for a file, `//` when the extension is unknown."""
    if not file_path:
        return "//"
    name = posixpath.basename(file_path.replace("\\", "/")).lower()
    if name in _FILE_NAME_COMMENTS:
        return _FILE_NAME_COMMENTS[name]
    _, _, extension = name.rpartition(".")
    return _LINE_COMMENTS.get(extension, "//") if "." in name else "//"


def snippets_as_comments(snippets: Sequence[Snippet], file_path: str | None) -> str:
    """Render snippets as `<comment> Path: p` headers followed by commented-out lines."""
    marker = comment_prefix(file_path)
    blocks: list[str] = []
    for snippet in snippets:
        lines = [f"{marker} Path: {snippet.path}"]
        lines.extend(f"{marker} {line}".rstrip() for line in snippet.text.splitlines())
        blocks.append("\n".join(lines) + "\n")
    return "".join(blocks)


@dataclass(frozen=True)
class FimTemplate:
    """One model family's FIM prompt format and the stop sequences that end its middle."""

    name: str
    renderer: _Renderer
    stop: tuple[str, ...]
    description: str = ""

    def render(
        self,
        prefix: str,
        suffix: str,
        *,
        file_path: str | None = None,
        repo_snippets: Sequence[Snippet] = (),
    ) -> str:
        """Return the prompt text for a cursor between `prefix` and `suffix`."""
        return self.renderer(prefix, suffix, file_path, repo_snippets)


def _starcoder(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    if not snippets:
        return f"<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>"
    # StarCoder2's repository format: `<file_sep>path\ncode` per file, the FIM file last.
    files = "".join(f"<file_sep>{s.path}\n{s.text}\n" for s in snippets)
    head = f"{path}\n" if path else ""
    return f"{files}<file_sep><fim_prefix>{head}{prefix}<fim_suffix>{suffix}<fim_middle>"


def _qwen(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    fim = f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"
    if not snippets:
        return fim
    # Qwen2.5-Coder's repository-level format (its README), without the optional repo name.
    files = "".join(f"<|file_sep|>{s.path}\n{s.text}\n" for s in snippets)
    return f"{files}<|file_sep|>{path or 'untitled'}\n{fim}"


def _codellama(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    context = snippets_as_comments(snippets, path)
    return f"<PRE> {context}{prefix} <SUF>{suffix} <MID>"


def _deepseek(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    context = snippets_as_comments(snippets, path)
    return f"<｜fim▁begin｜>{context}{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>"


def _codestral(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    # Suffix first (SPM order); the tokenizer adds the `<s>` BOS itself.
    context = snippets_as_comments(snippets, path)
    return f"[SUFFIX]{suffix}[PREFIX]{context}{prefix}"


def _codegemma(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    context = snippets_as_comments(snippets, path)
    return f"<|fim_prefix|>{context}{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"


def _granite(prefix: str, suffix: str, path: str | None, snippets: Sequence[Snippet]) -> str:
    context = snippets_as_comments(snippets, path)
    return f"<fim_prefix>{context}{prefix}<fim_suffix>{suffix}<fim_middle>"


# Stop sequences are ordered by importance: callers may keep only the first few (OpenAI allows 4).
TEMPLATES: Mapping[str, FimTemplate] = MappingProxyType(
    {
        t.name: t
        for t in (
            FimTemplate(
                "starcoder",
                _starcoder,
                ("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>"),
                "StarCoder, StarCoder2, SantaCoder",
            ),
            FimTemplate("codellama", _codellama, ("<EOT>", "<PRE>", "<SUF>", "<MID>"), "CodeLlama"),
            FimTemplate(
                "deepseek-coder",
                _deepseek,
                (
                    "<｜end▁of▁sentence｜>",
                    "<|EOT|>",
                    "<｜fim▁begin｜>",
                    "<｜fim▁hole｜>",
                    "<｜fim▁end｜>",
                ),
                "DeepSeek-Coder (base models)",
            ),
            FimTemplate(
                "qwen2.5-coder",
                _qwen,
                (
                    "<|endoftext|>",
                    "<|file_sep|>",
                    "<|fim_pad|>",
                    "<|repo_name|>",
                    "<|fim_prefix|>",
                    "<|fim_suffix|>",
                    "<|fim_middle|>",
                    "<|im_end|>",
                ),
                "Qwen2.5-Coder",
            ),
            FimTemplate("codestral", _codestral, ("</s>", "[PREFIX]", "[SUFFIX]"), "Codestral"),
            FimTemplate(
                "codegemma",
                _codegemma,
                (
                    "<|file_separator|>",
                    "<eos>",
                    "<|fim_prefix|>",
                    "<|fim_suffix|>",
                    "<|fim_middle|>",
                    "<end_of_turn>",
                ),
                "CodeGemma",
            ),
            FimTemplate(
                "granite",
                _granite,
                ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
                "IBM Granite Code",
            ),
        )
    }
)

# (substrings that must all occur in the lower-cased model name, template); first match wins,
# so the more specific names come first.
_AUTO_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("starcoder",), "starcoder"),
    (("santacoder",), "starcoder"),
    (("codellama",), "codellama"),
    (("code-llama",), "codellama"),
    (("code_llama",), "codellama"),
    # "deepseek" alone would also match DeepSeek's chat and reasoning models, which take no FIM.
    (("deepseek", "coder"), "deepseek-coder"),
    (("qwen", "coder"), "qwen2.5-coder"),
    (("codeqwen",), "qwen2.5-coder"),
    (("codestral",), "codestral"),
    (("codegemma",), "codegemma"),
    (("granite",), "granite"),
)


def resolve_template(setting: str, model_name: str) -> FimTemplate | None:
    """Pick the FIM template for a model.

    `setting` is the registration's `fim_template`: `auto` picks by (case-insensitive) model
    name and gives None for names it does not know, `none` means "not a FIM model" (use the
    chat prompt), and a family name selects that template. Any other name raises ValueError.
    """
    choice = setting.strip().lower()
    if choice == "none":
        return None
    if choice == "auto":
        name = model_name.lower()
        for needles, family in _AUTO_RULES:
            if all(needle in name for needle in needles):
                return TEMPLATES[family]
        return None
    if choice in TEMPLATES:
        return TEMPLATES[choice]
    valid = ", ".join(["auto", "none", *TEMPLATES])
    raise ValueError(f"Unknown fim_template {setting!r}; valid values: {valid}")
