"""The count table keeps honest totals, bounded candidates, and can forget what it learned."""

from beastmode.localengine.table import CANDIDATE_CAPS, CountTable


def test_counts_accumulate_per_context() -> None:
    table = CountTable()
    for token in ["a", "b", "a"]:
        table.add(1, 0, token)
    assert table.lookup(1) == (3, [("a", 2), ("b", 1)])
    assert table.lookup(2) is None


def test_remove_restores_the_previous_state_exactly() -> None:
    table = CountTable()
    table.add(1, 0, "a")
    table.add(1, 0, "b")
    table.remove(1, "b")
    assert table.lookup(1) == (1, [("a", 1)])
    table.remove(1, "a")
    assert table.lookup(1) is None
    assert len(table) == 0


def test_a_full_context_replaces_a_rare_candidate_but_keeps_counting() -> None:
    table = CountTable()
    cap = CANDIDATE_CAPS[0]
    table.add(1, 0, "common")
    table.add(1, 0, "common")
    for index in range(cap + 2):
        table.add(1, 0, f"rare{index}")
    total, candidates = table.lookup(1) or (0, [])
    assert total == cap + 4
    assert len(candidates) == cap
    assert ("common", 2) in candidates
    assert candidates[-1] == (f"rare{cap + 1}", 1)


def test_removing_a_forgotten_count_is_harmless() -> None:
    table = CountTable()
    table.remove(7, "never")
    table.add(7, 0, "a")
    table.remove(7, "b")
    assert table.lookup(7) == (1, [("a", 1)])


def test_prune_drops_only_rarely_seen_contexts() -> None:
    table = CountTable()
    table.add(1, 0, "once")
    table.add(2, 0, "twice")
    table.add(2, 0, "twice")
    assert table.prune(table.keys_snapshot(), max_total=1) == 1
    assert table.lookup(1) is None
    assert table.lookup(2) == (2, [("twice", 2)])
