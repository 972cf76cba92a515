"""Greedy decoding of the rest of a line from next-token counts.

From the cursor, repeatedly take the most likely next token under the most specific context that
has seen any candidate (the whole line so far, then the last 3, 2, 1 tokens), until the end of the
line. The first token must extend what is already typed of it. Each step's probability is
smoothed by the evidence behind it (`count / (total + alpha)`: a context seen once is not
certainty), the suggestion's confidence is the product, and decoding gives up as soon as one step
is a guess or the brackets stop making sense. Pure: no I/O, no locking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from beastmode.localengine.table import CountTable
from beastmode.localengine.tokens import END_OF_LINE, LINE_START_KEY, context_keys, extend_chain

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())


@dataclass(frozen=True)
class DecodeParams:
    """Knobs of the decoder, tuned on scripts/bench_local_quality.py."""

    alpha: float = 0.0
    """Pseudo-count added to each context's total: how much a single sighting is doubted."""
    step_min: float = 0.2
    """A step less likely than this ends decoding with no suggestion."""
    min_confidence: float = 0.2
    """The product of the step probabilities must reach this."""
    max_tokens: int = 40
    """Longest suggestion, in tokens."""
    min_margin: float = 1.0
    """The chosen token must be this many times likelier than the runner-up (1.0: ties lose)."""
    interpolate: bool = True
    """Mix all context orders (Witten-Bell) instead of trusting only the deepest one seen."""


@dataclass(frozen=True)
class Source:
    """One table to read counts from, with the weight of its counts."""

    table: CountTable
    weight: float


def decode_rest_of_line(
    tokens: Sequence[str],
    fragment: str,
    sources: Sequence[Source],
    params: DecodeParams,
    excluded: Mapping[tuple[int, str], int] | None = None,
) -> tuple[str, float] | None:
    """Return `(rest of the line, confidence)` after `tokens` + `fragment`, or None if unsure.

    `excluded` holds counts to discount (the stale copy of the line being edited, which the
    engine may have learned from the document itself).
    """
    sequence = list(tokens)
    chain = LINE_START_KEY
    for token in sequence:
        chain = extend_chain(chain, token)
    stack = _open_brackets(sequence)
    opened_here = 0
    pieces: list[str] = []
    confidence = 1.0
    for step in range(params.max_tokens):
        choice = _best_next(
            sequence, chain, fragment if step == 0 else None, sources, excluded, params
        )
        if choice is None:
            return None
        token, probability = choice
        if probability < params.step_min:
            return None
        confidence *= probability
        if confidence < params.min_confidence:
            return None
        if token == END_OF_LINE:
            if opened_here > 0 and pieces and pieces[-1].strip() not in _OPENERS:
                return None
            text = "".join(pieces)
            return (text, confidence) if text.strip() else None
        lexeme = token.strip()
        if lexeme in _OPENERS:
            stack.append(lexeme)
            opened_here += 1
        elif lexeme in _CLOSERS:
            if stack and _OPENERS[stack[-1]] != lexeme:
                return None
            if stack:
                stack.pop()
                opened_here = max(0, opened_here - 1)
        pieces.append(token[len(fragment) :] if step == 0 else token)
        sequence.append(token)
        chain = extend_chain(chain, token)
    return None


def _best_next(
    sequence: Sequence[str],
    chain: int,
    fragment: str | None,
    sources: Sequence[Source],
    excluded: Mapping[tuple[int, str], int] | None,
    params: DecodeParams,
) -> tuple[str, float] | None:
    """Return the most likely next token and its probability."""
    levels = [_counts(key, fragment, sources, excluded) for key, _ in context_keys(sequence, chain)]
    if not params.interpolate:
        for merged, total in levels:
            if merged:
                scores = {token: count / (total + params.alpha) for token, count in merged.items()}
                return _dominant(scores, params.min_margin)
        return None
    # Witten-Bell: each context keeps (distinct / (total + distinct)) of its mass for what the
    # next shorter context predicts, so orders that agree reinforce each other.
    probabilities: dict[str, float] = {}
    for merged, total in reversed(levels):
        if not merged:
            continue
        distinct = len(merged)
        norm = total + distinct + params.alpha
        mixed = {token: distinct * p / norm for token, p in probabilities.items()}
        for token, count in merged.items():
            mixed[token] = mixed.get(token, 0.0) + count / norm
        probabilities = mixed
    return _dominant(probabilities, params.min_margin)


def _dominant(scores: Mapping[str, float], min_margin: float) -> tuple[str, float] | None:
    """Return the best-scoring token if it beats the runner-up by the margin (ties never do)."""
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    token, best = ranked[0]
    if len(ranked) > 1 and best <= ranked[1][1] * min_margin:
        return None
    return token, best


def _counts(
    key: int,
    fragment: str | None,
    sources: Sequence[Source],
    excluded: Mapping[tuple[int, str], int] | None,
) -> tuple[dict[str, float], float]:
    """Return the weighted next-token counts of one context and their total."""
    merged: dict[str, float] = {}
    total = 0.0
    for source in sources:
        found = source.table.lookup(key)
        if found is None:
            continue
        seen, candidates = found
        for token, count in candidates:
            if excluded:
                stale = excluded.get((key, token), 0)
                count -= stale
                seen -= stale
            if count > 0:
                merged[token] = merged.get(token, 0.0) + count * source.weight
        total += max(seen, 0) * source.weight
    if fragment is not None:
        merged = {
            token: count
            for token, count in merged.items()
            if token.startswith(fragment) and token != END_OF_LINE
        }
        total = sum(merged.values())
    return merged, total


def _open_brackets(tokens: Sequence[str]) -> list[str]:
    """Return the brackets left open by `tokens`, innermost last."""
    stack: list[str] = []
    for token in tokens:
        lexeme = token.strip()
        if lexeme in _OPENERS:
            stack.append(lexeme)
        elif lexeme in _CLOSERS and stack and _OPENERS[stack[-1]] == lexeme:
            stack.pop()
    return stack
