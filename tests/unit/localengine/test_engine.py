"""The local engine learns, forgets, stays within its bounds and speaks only when confident."""

import threading
import time

import pytest

from beastmode.localengine import EngineStats, LocalEngine, Suggestion

CORPUS = """\
from collections import OrderedDict
import os

def load(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()

def save(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
"""


def learned(
    *documents: str, max_files: int = 10_000, max_bytes: int = 10**8, max_entries: int = 10**6
) -> LocalEngine:
    engine = LocalEngine(max_files=max_files, max_bytes=max_bytes, max_entries=max_entries)
    for index, text in enumerate(documents):
        engine.update_document(f"file:///ws/m{index}.py", text, from_disk=True)
    return engine


def text_of(suggestion: Suggestion | None) -> str | None:
    return None if suggestion is None else suggestion.text


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("from collections import Ord", "eredDict"),
        ("x = 1\nfrom collections ", "import OrderedDict"),
        ("def f(p):\n    with open(path, enc", 'oding="utf-8") as handle:'),
    ],
)
def test_learning_a_document_teaches_its_lines(prefix: str, expected: str) -> None:
    assert LocalEngine().suggest(prefix, "") is None
    assert text_of(learned(CORPUS).suggest(prefix, "")) == expected


def test_silent_on_a_context_never_seen() -> None:
    assert learned(CORPUS).suggest("zzz_unknown_name(", "") is None


def test_silent_when_continuations_tie() -> None:
    engine = learned("x = compute(alpha)\nx = compute(beta)\n")
    assert engine.suggest("x = compute(", "") is None
    assert text_of(learned("x = compute(alpha)\n" * 3).suggest("x = compute(", "")) == "alpha)"


def test_confidence_threshold_is_what_decides() -> None:
    engine = learned("x = compute(alpha)\nx = compute(alpha)\nx = compute(beta)\n")
    suggestion = engine.suggest("x = compute(", "")
    assert suggestion is not None
    assert suggestion.text == "alpha)"
    assert 0.2 <= suggestion.confidence < 1.0


def test_suggestions_never_span_lines() -> None:
    suggestion = learned(CORPUS).suggest('def save(path, text):\n    with open(path, "', "")
    assert suggestion is not None
    assert suggestion == Suggestion('w", encoding="utf-8") as handle:', suggestion.confidence)
    assert "\n" not in suggestion.text


def test_suggestion_stops_before_closing_text_after_the_cursor() -> None:
    engine = learned("print(value, end='')\n" * 3)
    assert text_of(engine.suggest("print(val", ")\n")) == "ue, end=''"
    assert engine.suggest("print(val", " + other)\n") is None


def test_update_document_replaces_the_old_lines() -> None:
    engine = LocalEngine()
    engine.update_document("file:///a.py", "value = old_function()\n" * 3)
    assert text_of(engine.suggest("value = old_", "")) == "function()"
    engine.update_document("file:///a.py", "value = new_function()\n" * 3)
    assert engine.suggest("value = old_", "") is None
    assert text_of(engine.suggest("value = new_", "")) == "function()"


def test_remove_document_forgets_everything_it_taught() -> None:
    engine = learned(CORPUS)
    engine.remove_document("file:///ws/m0.py")
    assert engine.suggest("from collections import Ord", "") is None
    assert engine.stats == EngineStats(
        documents=0, bytes_learned=0, entries=0, approx_memory_bytes=0
    )


def test_stats_count_documents_and_bytes() -> None:
    stats = learned(CORPUS, "import os\n").stats
    assert (stats.documents, stats.bytes_learned) == (2, len(CORPUS) + len("import os\n"))
    assert stats.entries > 0
    assert stats.approx_memory_bytes > 0


def test_file_bound_refuses_more_workspace_files() -> None:
    engine = learned("a = 1\n", "b = 2\n", "from collections import OrderedDict\n", max_files=2)
    assert engine.stats.documents == 2
    assert engine.suggest("from collections import Ord", "") is None


def test_byte_bound_refuses_a_file_that_does_not_fit() -> None:
    engine = learned("a = 1\n", CORPUS, max_bytes=len(CORPUS))
    assert (engine.stats.documents, engine.stats.bytes_learned) == (1, len("a = 1\n"))


def test_editor_document_evicts_workspace_files_to_fit() -> None:
    engine = learned("a = 1\n", "b = 2\n", max_files=2)
    engine.update_document("file:///open.py", "import os\n")
    assert engine.stats.documents == 2
    assert text_of(engine.suggest("import ", "")) == "os"


def test_document_larger_than_its_bound_is_not_learned() -> None:
    engine = LocalEngine(max_document_bytes=10)
    engine.update_document("file:///big.py", "import os\n" * 5)
    assert engine.stats.documents == 0


def test_entry_bound_prunes_the_table() -> None:
    text = "".join(f"name_{index} = other_{index}(arg_{index})\n" for index in range(2000))
    engine = learned(text, max_entries=1000)
    assert 0 < engine.stats.entries <= 1000


def test_workspace_copy_never_replaces_the_editor_version() -> None:
    engine = LocalEngine()
    engine.update_document("file:///a.py", "value = live()\n" * 3)
    engine.update_document("file:///a.py", "value = on_disk()\n" * 3, from_disk=True)
    assert text_of(engine.suggest("value = ", "")) == "live()"


def test_the_half_typed_line_in_the_document_does_not_vote_for_itself() -> None:
    # The editor sent the document while this line was being typed; its own "end of line after
    # compute_sum" must not cancel the line seen before.
    text = "total = compute_sum(values)\ntotal = compute_sum"
    engine = LocalEngine()
    engine.update_document("file:///a.py", text)
    assert text_of(engine.suggest(text, "", uri="file:///a.py")) == "(values)"


def test_suggest_reads_only_the_tail_of_a_huge_prefix() -> None:
    engine = learned(CORPUS)
    prefix = "x = 1\n" * 1_000_000 + "from collections import Ord"
    started = time.perf_counter()
    for _ in range(20):
        assert text_of(engine.suggest(prefix, "")) == "eredDict"
    assert (time.perf_counter() - started) / 20 < 0.005


def test_suggest_is_safe_while_another_thread_learns() -> None:
    engine = learned(CORPUS)
    stop = threading.Event()
    failures: list[BaseException] = []

    def churn() -> None:
        try:
            index = 0
            while not stop.is_set():
                engine.update_document(f"file:///churn{index % 5}.py", f"v{index} = {index}\n" * 50)
                index += 1
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(2000):
            assert text_of(engine.suggest("from collections import Ord", "")) == "eredDict"
    finally:
        stop.set()
        worker.join()
    assert failures == []


def test_editor_document_larger_than_the_byte_bound_evicts_nothing() -> None:
    engine = learned("a = 1\n", max_bytes=20)
    engine.update_document("file:///open.py", "import os\n" * 3)
    assert (engine.stats.documents, engine.stats.bytes_learned) == (1, len("a = 1\n"))
