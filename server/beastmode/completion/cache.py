"""Typed-through cache: while the user types what the suggestion shows, answer from memory.

Key choice. An entry is anchored at the absolute offset where the suggestion was shown (the
length of the text before the cursor) and keeps up to 256 characters of the text just before
that anchor. A later cursor position matches when everything typed since the anchor is a prefix
of the suggestion and the text before the anchor still ends with the kept characters. Checking
costs O(typed + 256) character comparisons, never O(document): no hash of the whole prefix is
needed, and callers may pass only a window of the text before the cursor together with the
window's start offset (`prefix_offset`). The price: an edit far above the cursor that keeps the
document's length goes unnoticed; the suggestion it keeps showing was made for nearly the same
text, which is what the user sees typed through anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

ANCHOR_CONTEXT_CHARS = 256


@dataclass(frozen=True)
class _Entry:
    anchor: int  # absolute offset of the cursor when the suggestion was shown
    context: str  # the text just before the anchor
    suggestion: str


class TypedThroughCache:
    """Remember shown suggestions per document; bounded, least recently used dropped first."""

    def __init__(self, max_entries: int = 64) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(
        self, uri: str, prefix_text: str, suggestion: str, *, prefix_offset: int = 0
    ) -> None:
        """Record `suggestion` shown after `prefix_text` (text before the cursor).

        `prefix_text` may be a window of that text starting at document offset `prefix_offset`
        (for a big file, the last few thousand characters); it must end at the cursor.
        """
        if not suggestion:
            return
        anchor = prefix_offset + len(prefix_text)
        entry = _Entry(anchor, prefix_text[-ANCHOR_CONTEXT_CHARS:], suggestion)
        key = (uri, anchor)
        self._entries.pop(key, None)
        self._entries[key] = entry
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def lookup(self, uri: str, prefix_text: str, *, prefix_offset: int = 0) -> str | None:
        """Return the rest of a remembered suggestion the user has been typing, else None.

        None too when the suggestion has been typed in full. Same cursor as when it was shown:
        the whole suggestion.
        """
        cursor = prefix_offset + len(prefix_text)
        for key in reversed(self._entries):
            if key[0] != uri:
                continue
            entry = self._entries[key]
            rest = self._match(entry, prefix_text, prefix_offset, cursor)
            if rest is not None:
                self._entries.move_to_end(key)
                return rest or None
        return None

    @staticmethod
    def _match(entry: _Entry, prefix_text: str, prefix_offset: int, cursor: int) -> str | None:
        typed_length = cursor - entry.anchor
        if typed_length < 0 or typed_length > len(entry.suggestion):
            return None
        anchor_in_window = entry.anchor - prefix_offset
        context_start = anchor_in_window - len(entry.context)
        if context_start < 0:
            return None  # the caller's window does not reach back far enough to check
        typed = prefix_text[anchor_in_window:]
        if not entry.suggestion.startswith(typed):
            return None
        if not prefix_text.startswith(entry.context, context_start):
            return None
        return entry.suggestion[typed_length:]

    def forget(self, uri: str) -> None:
        """Drop every entry of a document (closed, or changed in a way typing cannot explain)."""
        for key in [key for key in self._entries if key[0] == uri]:
            del self._entries[key]
