"""Feature answers parsed into files, and paths refused outside the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from beastmode.errors import ModelOutputError, UnsafePathError
from beastmode.generation.feature import GeneratedFile, check_paths, parse_feature_answer


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            "File: src/app.py\n```python\nprint('hi')\n```\n\nFile: README.md\n```markdown\n# App\n```",
            [GeneratedFile("src/app.py", "print('hi')\n"), GeneratedFile("README.md", "# App\n")],
            id="strict",
        ),
        pytest.param(
            "I'll add two files.\n\n### src/auth.py\n\n```python\nTOKEN = 1\n```\n\n"
            "#### `tests/test_auth.py`\n```python\ndef test(): ...\n```\nDone!",
            [
                GeneratedFile("src/auth.py", "TOKEN = 1\n"),
                GeneratedFile("tests/test_auth.py", "def test(): ...\n"),
            ],
            id="heading-habit",
        ),
        pytest.param(
            "**src/a.ts**\n```ts\nexport const a = 1;\n```\n**`src/b.ts`**:\n```ts\nb\n```",
            [GeneratedFile("src/a.ts", "export const a = 1;\n"), GeneratedFile("src/b.ts", "b\n")],
            id="bold-habit",
        ),
        pytest.param(
            "`web/index.html`\n```html\n<p></p>\n```",
            [GeneratedFile("web/index.html", "<p></p>\n")],
            id="inline-code-habit",
        ),
        pytest.param(
            "```python src/app.py\nx = 1\n```\n```src/util.py\ny = 2\n```\n```rust:src/lib.rs\nfn f() {}\n```",
            [
                GeneratedFile("src/app.py", "x = 1\n"),
                GeneratedFile("src/util.py", "y = 2\n"),
                GeneratedFile("src/lib.rs", "fn f() {}\n"),
            ],
            id="info-string-path",
        ),
        pytest.param(
            "**File:** `./src/x.py` (new file)\n```python\nX = 1\n```\n"
            "- File: Makefile\n```make\nall:\n\ttrue\n```",
            [GeneratedFile("src/x.py", "X = 1\n"), GeneratedFile("Makefile", "all:\n\ttrue\n")],
            id="decorated-file-lines",
        ),
        pytest.param(
            "File: a.py\n```python\nold = 1\n```\nFile: b.py\n```python\nb = 1\n```\n"
            "Oops, fixed:\nFile: ./a.py\n```python\nnew = 2\n```",
            [GeneratedFile("b.py", "b = 1\n"), GeneratedFile("a.py", "new = 2\n")],
            id="duplicate-last-wins",
        ),
        pytest.param(
            "File: docs/guide.md\n````markdown\n# Guide\n```bash\nrun\n```\n````",
            [GeneratedFile("docs/guide.md", "# Guide\n```bash\nrun\n```\n")],
            id="file-holding-fences",
        ),
        pytest.param(
            "File: pkg/__init__.py\n```python\n```\nRun it with:\n```bash\npython -m pkg\n```",
            [GeneratedFile("pkg/__init__.py", "")],
            id="empty-file-and-unnamed-example-block",
        ),
        pytest.param(
            "<think>File: secret.py\n```\nno\n```</think>File: a.py\n```\nyes\n```",
            [GeneratedFile("a.py", "yes\n")],
            id="reasoning-ignored",
        ),
        pytest.param(
            "File: ../../etc/passwd\n```\nroot\n```",
            [GeneratedFile("../../etc/passwd", "root\n")],
            id="unsafe-paths-parsed-for-check-paths-to-refuse",
        ),
    ],
)
def test_parse_feature_answer(answer: str, expected: list[GeneratedFile]) -> None:
    assert parse_feature_answer(answer) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "I can't do that.",
        "### Overview\n```python\nx = 1\n```",  # a heading that is not a path
        "```bash\nnpm install\n```",
    ],
)
def test_answer_without_files_raises(answer: str) -> None:
    with pytest.raises(ModelOutputError, match="named no files"):
        parse_feature_answer(answer)


def test_check_paths_resolves_nested_paths_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    root = os.path.realpath(tmp_path)
    files = [GeneratedFile("src/new/deep/a.py", "a"), GeneratedFile("b.txt", "b")]
    assert check_paths(files, str(tmp_path)) == [
        (os.path.join(root, "src", "new", "deep", "a.py"), files[0]),
        (os.path.join(root, "b.txt"), files[1]),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "C:\\Windows\\system32\\x.dll",
        "c:relative.txt",
        "\\\\server\\share\\x",
        "//server/share/x",
        "\\rooted.txt",
        "../outside.py",
        "src/../../outside.py",
        "src\\..\\..\\outside.py",
        "a/b/..",
        "bad\x00name.py",
        "",
        ".",
        ".git/hooks/pre-commit",
        "pkg/.hg/hgrc",
        "x/.SVN/entries",
        "./",
    ],
)
def test_check_paths_refuses_unsafe_path(tmp_path: Path, path: str) -> None:
    with pytest.raises(UnsafePathError) as raised:
        check_paths([GeneratedFile("ok.py", ""), GeneratedFile(path, "x")], str(tmp_path))
    assert raised.value.paths == (path.replace("\x00", "\\x00"),)
    assert not any(tmp_path.iterdir())


def test_check_paths_names_every_refused_path(tmp_path: Path) -> None:
    files = [
        GeneratedFile("/abs.py", ""),
        GeneratedFile("fine.py", ""),
        GeneratedFile("../up.py", ""),
    ]
    with pytest.raises(UnsafePathError) as raised:
        check_paths(files, str(tmp_path))
    assert raised.value.paths == ("/abs.py", "../up.py")
    assert str(raised.value) == (
        "Refused to write files outside the workspace (nothing was written): /abs.py, ../up.py"
    )


def test_check_paths_is_lexical_and_leaves_symlinks_to_the_guard(tmp_path: Path) -> None:
    # A link leading out is placed as written; `WorkspaceGuard.writable` refuses it
    # (tests/unit/test_guard.py).
    (tmp_path / "link").symlink_to("/etc", target_is_directory=True)
    placed = check_paths([GeneratedFile("link/x.py", "x")], str(tmp_path))
    assert placed == [(os.path.join(tmp_path, "link", "x.py"), GeneratedFile("link/x.py", "x"))]


def test_check_paths_merges_paths_naming_the_same_file(tmp_path: Path) -> None:
    files = [GeneratedFile("a.py", "1"), GeneratedFile("src//../a.py", "2")]
    with pytest.raises(UnsafePathError):
        check_paths(files, str(tmp_path))
    same = [GeneratedFile("src/a.py", "1"), GeneratedFile("src//a.py", "2")]
    expected = os.path.join(os.path.realpath(tmp_path), "src", "a.py")
    assert check_paths(same, str(tmp_path)) == [(expected, same[1])]


def test_check_paths_reads_backslashes_as_separators(tmp_path: Path) -> None:
    generated = GeneratedFile("src\\pkg\\app.py", "x")
    expected = os.path.join(os.path.realpath(tmp_path), "src", "pkg", "app.py")
    assert check_paths([generated], str(tmp_path)) == [(expected, generated)]


def test_strict_file_line_allows_spaces_but_prose_is_not_a_path() -> None:
    answer = (
        "Path: the request goes through the router\n```text\nnot a file\n```\n"
        "File: docs/release notes.md\n```markdown\n# Notes\n```"
    )
    assert parse_feature_answer(answer) == [GeneratedFile("docs/release notes.md", "# Notes\n")]
