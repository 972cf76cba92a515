"""Each open document's own table: kept for every open document, updated by the changed lines."""

import pytest

from beastmode.localengine import LocalEngine
from beastmode.localengine import engine as engine_module

OWN = "value = compute(alpha)\n"
OTHERS = "value = compute(beta)\nvalue = compute(beta)\n"
TYPED = "value = compute("


def document(index: int, lines: int = 300) -> str:
    return "".join(f"entry_{index}_{row} = build({index}, {row})\n" for row in range(lines))


def test_relearning_one_of_ten_open_documents_counts_only_its_changed_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = LocalEngine()
    texts = {f"file:///ws/m{index}.py": document(index) for index in range(10)}
    for uri, text in texts.items():
        engine.update_document(uri, text)
    counted: list[int] = []
    real_line_events = engine_module.line_events

    def counting(tokens: list[str]) -> list[tuple[int, int, str]]:
        counted.append(1)
        return real_line_events(tokens)

    monkeypatch.setattr(engine_module, "line_events", counting)
    for uri, text in texts.items():  # the user edits one line of each document in turn
        counted.clear()
        engine.update_document(uri, text.replace("build(", "make(", 1))
        # The line out and the line in, in the shared table and in the document's own one.
        assert len(counted) == 4, uri


def test_every_open_document_keeps_its_own_weight_whatever_was_opened_after_it() -> None:
    engine = LocalEngine()
    engine.update_document("file:///ws/own.py", OWN + TYPED)
    engine.update_document("file:///ws/others.py", OTHERS)
    for index in range(8):
        engine.update_document(f"file:///ws/m{index}.py", document(index, lines=20))
    suggestion = engine.suggest(OWN + TYPED, "", uri="file:///ws/own.py")
    assert suggestion is not None and suggestion.text == "alpha)"
    # Without its own table's weight the other document's lines win.
    suggestion = engine.suggest(OWN + TYPED, "", uri=None)
    assert suggestion is not None and suggestion.text == "beta)"


def test_a_released_document_stays_learned_without_its_own_weight() -> None:
    engine = LocalEngine()
    engine.update_document("file:///ws/own.py", OWN + TYPED)
    engine.update_document("file:///ws/others.py", OTHERS)
    engine.release_document("file:///ws/own.py")
    suggestion = engine.suggest(OWN + TYPED, "", uri="file:///ws/own.py")
    assert suggestion is not None and suggestion.text == "beta)"
    assert engine.stats.documents == 2
    # Like a scanned file, a later scan's copy now replaces it.
    engine.update_document("file:///ws/own.py", "unrelated = 1\n", from_disk=True)
    assert engine.suggest("unrelated ", "") is not None


def test_the_least_recently_used_tables_go_first_beyond_the_memory_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine_module, "_MAX_OVERLAY_TOTAL_BYTES", len(OTHERS) + 5)  # one fits
    engine = LocalEngine()
    engine.update_document("file:///ws/own.py", OWN + TYPED)
    engine.update_document("file:///ws/others.py", OTHERS)  # over the bound: own.py's goes
    suggestion = engine.suggest(OWN + TYPED, "", uri="file:///ws/own.py")
    assert suggestion is not None and suggestion.text == "beta)"
    engine.update_document("file:///ws/own.py", OWN + TYPED + " ")  # rebuilt, others.py's goes
    suggestion = engine.suggest(OWN + TYPED, "", uri="file:///ws/own.py")
    assert suggestion is not None and suggestion.text == "alpha)"
