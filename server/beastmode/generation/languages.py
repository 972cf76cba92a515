"""Languages the generation features know: comment syntax, documentation style, test framework.

A document's language comes from the editor's LSP `languageId` when we know it, else from the
file's extension; anything else is plain text, which every feature still handles generically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Language:
    """What prompts and file placement need to know about one programming language."""

    id: str
    name: str
    line_comment: str | None
    doc_style: str
    test_framework: str


_JSDOC = "JSDoc comments (/** ... */ with @param and @returns) above functions and classes"
_JEST = "Jest"

_LANGUAGES: tuple[Language, ...] = (
    Language(
        "python",
        "Python",
        "#",
        "PEP 257 docstrings (triple double quotes) on modules, classes and functions",
        "pytest",
    ),
    Language("javascript", "JavaScript", "//", _JSDOC, _JEST),
    Language("typescript", "TypeScript", "//", _JSDOC, _JEST),
    Language(
        "javascriptreact", "JavaScript (React)", "//", _JSDOC, "Jest with React Testing Library"
    ),
    Language(
        "typescriptreact", "TypeScript (React)", "//", _JSDOC, "Jest with React Testing Library"
    ),
    Language(
        "go",
        "Go",
        "//",
        "Go doc comments (// lines directly above each declaration, starting with its name)",
        "the standard testing package",
    ),
    Language(
        "rust",
        "Rust",
        "//",
        "/// doc comments above items (//! for the module itself)",
        "Rust's built-in #[test] functions",
    ),
    Language(
        "java",
        "Java",
        "//",
        "Javadoc comments (/** ... */ with @param, @return and @throws)",
        "JUnit 5",
    ),
    Language("c", "C", "//", "Doxygen comments (/** ... */ with @param and @return)", "assert.h"),
    Language(
        "cpp", "C++", "//", "Doxygen comments (/** ... */ with @param and @return)", "GoogleTest"
    ),
    Language("csharp", "C#", "//", "XML documentation comments (/// <summary>...)", "xUnit"),
    Language("ruby", "Ruby", "#", "YARD comments (# lines with @param and @return)", "Minitest"),
    Language("php", "PHP", "//", "PHPDoc comments (/** ... */ with @param and @return)", "PHPUnit"),
    Language(
        "kotlin", "Kotlin", "//", "KDoc comments (/** ... */ with @param and @return)", "JUnit 5"
    ),
    Language(
        "swift",
        "Swift",
        "//",
        "Swift markup comments (/// with - Parameter and - Returns)",
        "XCTest",
    ),
    Language("lua", "Lua", "--", "LDoc comments (--- lines with @param and @return)", "busted"),
    Language("shell", "Shell", "#", "# comment blocks above each function", "bats"),
    Language(
        "plaintext", "plain text", None, "clear comments", "the project's usual test framework"
    ),
)

_BY_ID = MappingProxyType({language.id: language for language in _LANGUAGES})

# Editors disagree on ids: VS Code says "shellscript", Neovim passes its filetype ("sh", "cs"),
# Helix has "c-sharp", "tsx", "jsx".
_ID_ALIASES = MappingProxyType(
    {
        "py": "python",
        "js": "javascript",
        "ts": "typescript",
        "jsx": "javascriptreact",
        "tsx": "typescriptreact",
        "golang": "go",
        "rs": "rust",
        "c++": "cpp",
        "cs": "csharp",
        "c-sharp": "csharp",
        "rb": "ruby",
        "kt": "kotlin",
        "shellscript": "shell",
        "sh": "shell",
        "bash": "shell",
        "zsh": "shell",
        "text": "plaintext",
    }
)

_EXTENSIONS = MappingProxyType(
    {
        ".py": "python",
        ".pyi": "python",
        ".js": "javascript",
        ".mjs": "javascript",
        ".cjs": "javascript",
        ".jsx": "javascriptreact",
        ".ts": "typescript",
        ".mts": "typescript",
        ".cts": "typescript",
        ".tsx": "typescriptreact",
        ".go": "go",
        ".rs": "rust",
        ".java": "java",
        ".c": "c",
        ".h": "c",
        ".cc": "cpp",
        ".cpp": "cpp",
        ".cxx": "cpp",
        ".hh": "cpp",
        ".hpp": "cpp",
        ".hxx": "cpp",
        ".cs": "csharp",
        ".rb": "ruby",
        ".php": "php",
        ".kt": "kotlin",
        ".kts": "kotlin",
        ".swift": "swift",
        ".lua": "lua",
        ".sh": "shell",
        ".bash": "shell",
        ".zsh": "shell",
    }
)

# Info strings models put on code fences, beyond the language id itself.
_FENCE_TAGS = MappingProxyType(
    {
        "python": ("python", "py", "python3"),
        "javascript": ("javascript", "js", "mjs", "cjs", "node"),
        "typescript": ("typescript", "ts"),
        "javascriptreact": ("jsx", "javascript", "js", "javascriptreact"),
        "typescriptreact": ("tsx", "typescript", "ts", "typescriptreact"),
        "go": ("go", "golang"),
        "rust": ("rust", "rs"),
        "java": ("java",),
        "c": ("c", "h"),
        "cpp": ("cpp", "c++", "cxx", "cc", "hpp"),
        "csharp": ("csharp", "cs", "c#"),
        "ruby": ("ruby", "rb"),
        "php": ("php",),
        "kotlin": ("kotlin", "kt"),
        "swift": ("swift",),
        "lua": ("lua",),
        "shell": ("bash", "sh", "shell", "zsh", "shellscript"),
        "plaintext": ("text", "plaintext", "txt"),
    }
)


def language_for(language_id: str | None, path: str) -> Language:
    """Return the language of a document from its LSP languageId, else its file extension."""
    if language_id:
        key = language_id.strip().lower()
        key = _ID_ALIASES.get(key, key)
        if key in _BY_ID and key != "plaintext":
            return _BY_ID[key]
    extension = os.path.splitext(path)[1].lower()
    return _BY_ID[_EXTENSIONS.get(extension, "plaintext")]


def fence_tags(language: Language) -> tuple[str, ...]:
    """Return the code-fence info strings that name `language`, the preferred one first."""
    return _FENCE_TAGS.get(language.id, (language.id,))
