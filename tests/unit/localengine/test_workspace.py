"""scan_workspace learns the workspace's source files and nothing else."""

from collections.abc import Callable
from pathlib import Path

import pytest

from beastmode.localengine import LocalEngine, ScanResult, scan_workspace


class RecordingEngine(LocalEngine):
    """A real engine that also records which files it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.learned: list[str] = []

    def update_document(self, uri: str, text: str, *, from_disk: bool = False) -> None:
        assert from_disk
        self.learned.append(uri)
        super().update_document(uri, text, from_disk=from_disk)


def make_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def scanned(
    root: Path,
    *,
    max_files: int = 10_000,
    max_bytes: int = 10**8,
    max_file_bytes: int = 10**6,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[list[str], ScanResult]:
    engine = RecordingEngine()
    result = scan_workspace(
        str(root),
        engine,
        max_files=max_files,
        max_bytes=max_bytes,
        max_file_bytes=max_file_bytes,
        should_stop=should_stop,
    )
    return sorted(
        Path(uri.removeprefix("file://")).relative_to(root.resolve()).as_posix()
        for uri in engine.learned
    ), result


def test_gitignore_files_are_honoured_at_every_level(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "generated/\n*_pb2.py\n/top_only.py\n",
            "app.py": "import os\n",
            "top_only.py": "x = 1\n",
            "generated/models.py": "x = 1\n",
            "pkg/api_pb2.py": "x = 1\n",
            "pkg/top_only.py": "x = 1\n",
            "pkg/.gitignore": "!keep_pb2.py\nlocal.py\n",
            "pkg/keep_pb2.py": "x = 1\n",
            "pkg/local.py": "x = 1\n",
            "other/local.py": "x = 1\n",
        },
    )
    learned, result = scanned(tmp_path)
    assert learned == ["app.py", "other/local.py", "pkg/keep_pb2.py", "pkg/top_only.py"]
    assert result == ScanResult(files_learned=4, bytes_learned=28, files_skipped=3, complete=True)


@pytest.mark.parametrize(
    "directory",
    [".git", "node_modules", ".venv", "venv", "__pycache__", "build", "dist", "sub/node_modules"],
)
def test_dependency_and_build_directories_are_always_skipped(
    tmp_path: Path, directory: str
) -> None:
    make_tree(tmp_path, {"main.py": "import os\n", f"{directory}/lib.py": "x = 1\n"})
    assert scanned(tmp_path)[0] == ["main.py"]


def test_binary_undecodable_huge_and_non_source_files_are_skipped(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "ok.py": "import os\n",
            "binary.py": b"import os\x00\x01\x02",
            "latin1.py": "café = 1\n".encode("latin-1"),
            "huge.py": "x = 1\n" * 100,
            "notes.txt": "hello\n",
            "image.png": b"\x89PNG\r\n",
        },
    )
    learned, result = scanned(tmp_path, max_file_bytes=100)
    assert learned == ["ok.py"]
    assert (result.files_learned, result.files_skipped) == (1, 3)


def test_file_and_byte_bounds_stop_the_scan(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"m{index}.py": "import os\n" for index in range(5)})
    learned, result = scanned(tmp_path, max_files=2)
    assert learned == ["m0.py", "m1.py"]
    assert result.complete is False
    learned, result = scanned(tmp_path, max_bytes=25)
    assert learned == ["m0.py", "m1.py"]
    assert (result.bytes_learned, result.files_skipped) == (20, 3)


def test_should_stop_interrupts_between_files(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"m{index}.py": "import os\n" for index in range(5)})
    calls = iter([False, False, True])
    learned, result = scanned(tmp_path, should_stop=lambda: next(calls))
    assert learned == ["m0.py", "m1.py"]
    assert result == ScanResult(files_learned=2, bytes_learned=20, files_skipped=0, complete=False)


def test_scanned_files_teach_the_engine(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "from collections import OrderedDict\n"})
    engine = LocalEngine()
    scan_workspace(str(tmp_path), engine)
    suggestion = engine.suggest("from collections import Ord", "")
    assert suggestion is not None
    assert suggestion.text == "eredDict"
