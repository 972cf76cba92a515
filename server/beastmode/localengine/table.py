"""A bounded table of next-token counts per context, the local engine's whole memory of code.

Most contexts are seen once, so an entry seen once is stored as the bare (interned) next token;
only contexts seen again become a list `[total, token, count, token, count, ...]`. A list keeps
at most a few candidates (more for short, general contexts): once full, a new token takes the
place of one seen only once, or else only counts toward the total, so probabilities stay honest
(`count / total`) while the rare tail is forgotten. Counts can be removed again, which is how a
changed or closed document stops being proposed; a count that was forgotten is simply skipped.

Not thread-safe by itself: the engine guards it with a lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CANDIDATE_CAPS = {0: 4, 3: 6, 2: 12, 1: 32}
"""Candidates kept per context, by context order (0 = whole line so far)."""

# A context seen more than once: [total, token, count, token, count, ...].
_Slots = list[Any]


class CountTable:
    """Next-token counts keyed by context hash (see `tokens.context_keys`)."""

    def __init__(self) -> None:
        self._entries: dict[int, str | _Slots] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, key: int, order: int, token: str) -> None:
        """Count one occurrence of `token` after the context `key` of the given order."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            entries[key] = token
            return
        if isinstance(entry, str):
            entries[key] = [2, entry, 2] if entry == token else [2, entry, 1, token, 1]
            return
        entry[0] += 1
        for index in range(1, len(entry), 2):
            if entry[index] == token:
                entry[index + 1] += 1
                return
        if len(entry) // 2 < CANDIDATE_CAPS[order]:
            entry.extend((token, 1))
            return
        for index in range(2, len(entry), 2):
            if entry[index] == 1:
                del entry[index - 1 : index + 1]
                entry.extend((token, 1))
                return

    def remove(self, key: int, token: str) -> None:
        """Forget one occurrence of `token` after `key` (no-op if it was already forgotten)."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            return
        if isinstance(entry, str):
            if entry == token:
                del entries[key]
            return
        entry[0] -= 1
        for index in range(1, len(entry), 2):
            if entry[index] == token:
                entry[index + 1] -= 1
                if entry[index + 1] == 0:
                    del entry[index : index + 2]
                break
        if entry[0] <= 0:
            del entries[key]
        elif entry[0] == 1 and len(entry) == 3 and entry[2] == 1:
            entries[key] = entry[1]

    def lookup(self, key: int) -> tuple[int, list[tuple[str, int]]] | None:
        """Return `(total, [(token, count), ...])` for a context, or None if it was never seen."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if isinstance(entry, str):
            return 1, [(entry, 1)]
        return entry[0], [(entry[index], entry[index + 1]) for index in range(1, len(entry), 2)]

    def keys_snapshot(self) -> list[int]:
        """Return the current keys (for pruning in small steps)."""
        return list(self._entries)

    def prune(self, keys: Iterable[int], max_total: int) -> int:
        """Drop those of `keys` seen at most `max_total` times; return how many were dropped."""
        entries = self._entries
        dropped = 0
        for key in keys:
            entry = entries.get(key)
            if entry is None:
                continue
            if isinstance(entry, str) or entry[0] <= max_total:
                del entries[key]
                dropped += 1
        return dropped

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
