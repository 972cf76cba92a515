"""WorkspaceGuard: which paths may be read, written and listed, and what a refusal says."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from beastmode.errors import PathRefusedError
from beastmode.guard import SKIPPED_DIRECTORIES, WorkspaceGuard
from tests.shapes import make_deep_tree, remove_deep_tree


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with one source file, next to an `outside` folder holding a secret."""
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("TOKEN = 'outside'\n")
    return root


def guard(ws: Path, **options: int) -> WorkspaceGuard:
    return WorkspaceGuard([ws], **options)


def refusal(call: object) -> str:
    assert callable(call)
    with pytest.raises(PathRefusedError) as raised:
        call()
    return str(raised.value)


def test_reads_a_workspace_file_and_none_for_a_missing_one(ws: Path) -> None:
    assert guard(ws).read_text(ws / "src" / "app.py") == "print('hi')\n"
    assert guard(ws).read_text(ws / "src" / "missing.py") is None


def test_symlink_to_an_outside_file_is_refused_naming_both(ws: Path) -> None:
    outside = ws.parent / "outside" / "secret.py"
    (ws / "link.py").symlink_to(outside)
    message = refusal(lambda: guard(ws).read_text(ws / "link.py"))
    assert message == (
        f"Refused to read {ws}/link.py: it is a symlink to {outside}, outside the workspace {ws}"
    )
    assert "Refused to write" in refusal(lambda: guard(ws).writable(ws / "link.py"))


def test_a_dangling_link_leading_outside_is_refused_not_missing(ws: Path) -> None:
    (ws / "new.py").symlink_to(ws.parent / "outside" / "not_yet.py")
    assert "outside the workspace" in refusal(lambda: guard(ws).read_text(ws / "new.py"))
    assert "outside the workspace" in refusal(lambda: guard(ws).writable(ws / "new.py"))


def test_proc_files_are_refused_even_under_a_workspace_at_the_root() -> None:
    message = refusal(lambda: WorkspaceGuard(["/"]).read_text("/proc/self/environ"))
    assert "a special system file" in message


def test_nothing_is_created_through_a_directory_link_leading_outside(ws: Path) -> None:
    (ws / "tests").symlink_to(ws.parent / "outside", target_is_directory=True)
    message = refusal(lambda: guard(ws).writable(ws / "tests" / "deep" / "test_app.py"))
    assert f"resolves to {ws.parent}/outside/deep/test_app.py" in message
    assert guard(ws).writable(ws / "src" / "new" / "mod.py") == ws / "src" / "new" / "mod.py"


@pytest.mark.parametrize(
    "relative",
    [".git/config", ".git/hooks/pre-commit", "pkg/.hg/hgrc", "a/b/.svn/entries", ".GIT/config"],
)
def test_version_control_data_is_refused_at_any_depth(ws: Path, relative: str) -> None:
    assert "version-control data" in refusal(lambda: guard(ws).writable(ws / relative))
    assert "version-control data" in refusal(lambda: guard(ws).read_text(ws / relative))


@pytest.mark.parametrize(("link", "written"), [("hooks", ".git/hooks"), ("g", ".git")])
def test_links_into_git_are_refused(ws: Path, link: str, written: str) -> None:
    (ws / link).symlink_to(ws / written, target_is_directory=True)
    name = "pre-commit" if link == "hooks" else "config"
    message = refusal(lambda: guard(ws).writable(ws / link / name))
    assert f"resolves to {ws}/.git/" in message and "inside .git" in message


def test_a_fifo_is_refused_without_blocking(ws: Path) -> None:
    os.mkfifo(ws / "x.py")  # nobody writes to it: a blocking open would hang this test
    assert "a FIFO" in refusal(lambda: guard(ws).read_text(ws / "x.py"))
    assert "a FIFO" in refusal(lambda: guard(ws).writable(ws / "x.py"))


def test_a_socket_and_a_directory_are_not_read(ws: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(ws / "s.py"))
        assert "a socket" in refusal(lambda: guard(ws).read_text(ws / "s.py"))
    assert "a directory" in refusal(lambda: guard(ws).read_text(ws / "src"))


def test_files_over_the_cap_are_refused(ws: Path) -> None:
    (ws / "big.py").write_text("x" * 101)
    assert "100-byte limit" in refusal(
        lambda: guard(ws, max_file_bytes=100).read_text(ws / "big.py")
    )
    assert guard(ws).read_bytes(ws / "big.py", max_bytes=200) == b"x" * 101


def test_non_utf8_text_is_refused(ws: Path) -> None:
    (ws / "latin.py").write_bytes("café".encode("latin-1"))
    assert "not UTF-8" in refusal(lambda: guard(ws).read_text(ws / "latin.py"))


def test_any_of_several_workspace_folders_is_allowed(tmp_path: Path, ws: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.py").write_text("b = 1\n")
    both = WorkspaceGuard([ws, other])
    assert both.read_text(other / "b.py") == "b = 1\n"
    assert both.root_of(other / "b.py") == other
    message = refusal(lambda: both.read_text(tmp_path / "outside" / "secret.py"))
    assert f"outside the workspace folders {ws}, {other}" in message


def test_no_workspace_folder_refuses_everything(ws: Path) -> None:
    message = refusal(lambda: WorkspaceGuard([]).read_text(ws / "src" / "app.py"))
    assert "no workspace folder is open" in message


def test_symlinks_inside_and_a_symlinked_root_are_fine(tmp_path: Path, ws: Path) -> None:
    (ws / "alias").symlink_to(ws / "src", target_is_directory=True)
    root_link = tmp_path / "root_link"
    root_link.symlink_to(ws, target_is_directory=True)
    through_link = WorkspaceGuard([root_link])
    assert through_link.read_text(root_link / "alias" / "app.py") == "print('hi')\n"
    assert through_link.writable(root_link / "alias" / "m.py") == ws / "src" / "m.py"
    assert through_link.root_of(root_link / "src" / "app.py") == root_link


# Walking ---------------------------------------------------------------------------------------


def listed(walker: WorkspaceGuard, top: Path, **options: object) -> list[str]:
    return [
        (step.directory / name).relative_to(top).as_posix()
        for step in walker.walk(top, **options)  # type: ignore[arg-type]
        for name in step.files
    ]


def test_walk_lists_regular_files_depth_first_and_skips_directories(ws: Path) -> None:
    (ws / "z.py").write_text("")
    (ws / "src" / "pkg").mkdir()
    (ws / "src" / "pkg" / "m.py").write_text("")
    (ws / "node_modules").mkdir()
    (ws / "node_modules" / "dep.js").write_text("")
    os.mkfifo(ws / "fifo.py")
    assert {".git", "node_modules", "target", "vendor"} <= SKIPPED_DIRECTORIES
    assert listed(guard(ws), ws) == ["z.py", "src/app.py", "src/pkg/m.py"]


def test_walk_survives_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    make_deep_tree(root, 1_200)
    try:
        steps = list(WorkspaceGuard([root]).walk(root, max_depth=64))
        assert len(steps) == 65  # the root and 64 levels below it; deeper is not entered
        full = list(WorkspaceGuard([root]).walk(root, max_depth=2_000))
        assert len(full) == 1_201
        assert full[-1].files == ["bottom.py"]
    finally:
        remove_deep_tree(root)


def test_walk_ends_symlink_loops_and_never_follows_links_out(tmp_path: Path, ws: Path) -> None:
    (ws / "src" / "loop").symlink_to(ws, target_is_directory=True)
    (ws / "src" / "self").symlink_to(ws / "src", target_is_directory=True)
    (ws / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (ws / "secret.py").symlink_to(tmp_path / "outside" / "secret.py")
    (ws / "alias.py").symlink_to(ws / "src" / "app.py")
    assert listed(guard(ws), ws) == ["alias.py", "src/app.py"]
    assert listed(guard(ws), ws, follow_symlinks=False) == ["src/app.py"]


def test_walk_follows_links_inside_after_the_real_directories(ws: Path) -> None:
    (ws / "a_link").symlink_to(ws / "src", target_is_directory=True)
    (ws / "lib").mkdir()
    (ws / "lib" / "l.py").write_text("")
    (ws / "lib_alias").symlink_to(ws.parent / "ws" / "lib", target_is_directory=True)
    # The real `src` and `lib` come first; their links add nothing (each directory once).
    assert listed(guard(ws), ws) == ["lib/l.py", "src/app.py"]


def test_walk_stops_after_its_entry_bound(ws: Path) -> None:
    for index in range(50):
        (ws / f"m{index:02}.py").write_text("")
    assert len(listed(guard(ws), ws, max_entries=10)) <= 10


def test_walk_outside_the_workspace_is_refused(ws: Path) -> None:
    walker = guard(ws)
    message = refusal(lambda: next(iter(walker.walk(ws.parent / "outside"))))
    assert message.startswith(f"Refused to list {ws.parent}/outside")
