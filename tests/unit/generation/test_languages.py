"""Language detection from LSP languageId and file extension."""

from __future__ import annotations

import pytest

from beastmode.generation.languages import fence_tags, language_for


@pytest.mark.parametrize(
    ("language_id", "path", "expected"),
    [
        ("python", "x.txt", "python"),
        ("javascript", "a", "javascript"),
        ("typescript", "a", "typescript"),
        ("javascriptreact", "a", "javascriptreact"),
        ("typescriptreact", "a", "typescriptreact"),
        ("go", "a", "go"),
        ("rust", "a", "rust"),
        ("java", "a", "java"),
        ("c", "a", "c"),
        ("cpp", "a", "cpp"),
        ("csharp", "a", "csharp"),
        ("ruby", "a", "ruby"),
        ("php", "a", "php"),
        ("kotlin", "a", "kotlin"),
        ("swift", "a", "swift"),
        ("lua", "a", "lua"),
        ("shellscript", "a", "shell"),
        ("sh", "a", "shell"),
        ("cs", "a", "csharp"),
        ("TypeScript", "a", "typescript"),
        ("plaintext", "a.py", "python"),
        ("markdown", "notes.rs", "rust"),
        (None, "/w/src/app.py", "python"),
        (None, "/w/web/App.tsx", "typescriptreact"),
        (None, "/w/web/App.jsx", "javascriptreact"),
        (None, "/w/web/mod.mjs", "javascript"),
        (None, "/w/lib.rs", "rust"),
        (None, "/w/Main.java", "java"),
        (None, "/w/x.h", "c"),
        (None, "/w/x.hpp", "cpp"),
        (None, "/w/run.sh", "shell"),
        (None, "/w/Prog.CS", "csharp"),
        (None, "/w/README", "plaintext"),
        (None, "/w/notes.md", "plaintext"),
    ],
)
def test_language_for_prefers_known_id_then_extension(
    language_id: str | None, path: str, expected: str
) -> None:
    assert language_for(language_id, path).id == expected


def test_languages_carry_their_conventions() -> None:
    python = language_for("python", "a.py")
    assert (python.name, python.line_comment, python.test_framework) == ("Python", "#", "pytest")
    assert "docstring" in python.doc_style
    assert "JSDoc" in language_for("javascript", "a.js").doc_style
    assert "///" in language_for("rust", "a.rs").doc_style
    assert "Javadoc" in language_for("java", "A.java").doc_style
    assert "Go doc comments" in language_for("go", "a.go").doc_style
    assert language_for("lua", "a.lua").line_comment == "--"
    assert language_for(None, "README").line_comment is None


def test_fence_tags_put_the_preferred_tag_first() -> None:
    assert fence_tags(language_for("python", "a.py")) == ("python", "py", "python3")
    assert fence_tags(language_for("typescriptreact", "a.tsx"))[0] == "tsx"
    assert "sh" in fence_tags(language_for("shellscript", "a.sh"))
