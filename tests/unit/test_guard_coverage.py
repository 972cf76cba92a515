"""No module opens, reads, writes or lists a path without the workspace guard (like the layering test).

Every module under server/beastmode is parsed; a call that touches the file system by path
(`open(`, `os.open`, `.read_text(`, `.write_bytes(`, `os.walk`, `os.scandir`, `.iterdir(`,
`.glob(`, ...) fails the test unless the allowlist below names the module, or the call, with a
reason. A user's path goes through `beastmode.guard.WorkspaceGuard` instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import beastmode

PACKAGE = Path(beastmode.__file__).parent

FILE_FUNCTIONS = frozenset({"open", "io.open", "os.open", "os.fdopen", "os.walk", "os.fwalk"})
FILE_FUNCTIONS |= frozenset({"os.scandir", "os.listdir", "glob.glob", "glob.iglob"})
FILE_METHODS = frozenset(
    {"open", "read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "rglob", "glob"}
)

ALLOWED_MODULES = {
    "guard.py": "the guard itself: every user path is read, written and listed here",
    "registry/": "BEASTMODE_HOME's own files (registry database, secret.key), not user paths",
    "usage/": "BEASTMODE_HOME's usage database, not user paths",
    "redaction.py": "reads BEASTMODE_HOME's secret.key to redact its keys",
    "cli.py": "BEASTMODE_HOME's own files",
    "cli_models.py": "the `--json FILE` the user names on the command line (`models add`)",
    "demo.py": "writes its own temporary demo workspace",
}
ALLOWED_CALLS = {
    "Registry.open": "opens BEASTMODE_HOME's registry database (a class method, not a file)",
    "documents.open": "the in-memory document store (didOpen), not a file",
}


def _through_the_guard(func: ast.expr) -> bool:
    """`guard.read_text(...)`, `ls.guard.walk(...)`: a call on a WorkspaceGuard."""
    return isinstance(func, ast.Attribute) and ast.unparse(func.value).split(".")[-1] == "guard"


def _file_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = ast.unparse(node.func)
        allowed = any(called == c or called.endswith("." + c) for c in ALLOWED_CALLS)
        if allowed or _through_the_guard(node.func):
            continue
        method = isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS
        if called in FILE_FUNCTIONS or method:
            found.append((node.lineno, called))
    return found


def unguarded_file_access() -> list[str]:
    """`module:line call` for each file-system call outside the allowlist."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if any(module.startswith(allowed) for allowed in ALLOWED_MODULES):
            continue
        for line, called in _file_calls(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{module}:{line} {called}(")
    return offenders


def test_no_module_touches_a_path_without_the_guard() -> None:
    assert unguarded_file_access() == [], (
        "Read, write and list user paths through beastmode.guard.WorkspaceGuard; if the path "
        "is BEAST MODE's own, add the module or call to the allowlist with a reason."
    )


def test_the_check_sees_each_kind_of_file_access() -> None:
    sample = """
open(p)
os.open(p, 0)
Path(p).read_text()
p.write_bytes(b"")
os.walk(p)
os.scandir(p)
os.listdir(p)
p.iterdir()
p.rglob("*")
p.open()
Registry.open()
self.beast.documents.open(uri, text, 1, "python")
ls.guard.read_text(p)
guard.walk(p)
"""
    assert [called for _, called in _file_calls(ast.parse(sample))] == [
        "open",
        "os.open",
        "Path(p).read_text",
        "p.write_bytes",
        "os.walk",
        "os.scandir",
        "os.listdir",
        "p.iterdir",
        "p.rglob",
        "p.open",
    ]


def test_every_allowlisted_module_exists() -> None:
    for allowed in ALLOWED_MODULES:
        assert (PACKAGE / allowed).exists(), allowed
