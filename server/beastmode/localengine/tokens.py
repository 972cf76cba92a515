"""Split one line of code into the tokens the local engine counts, and name their contexts.

A token is a lexeme together with the blanks written before it (`" ="`, `"foo"`, `" ("`), so
that joining predicted tokens reproduces the line exactly, spacing included. Leading indentation
is not part of any token: statistics are shared between indentation levels.

Each position in a line is seen through several contexts, most specific first:

* the whole line so far (a hash chain over the tokens since the start of the line), which acts as
  an exact-line memory for imports, decorators and repeated statements;
* the last three, two and one tokens (n-grams that do not cross the start of the line; positions
  closer to the start are covered by the whole-line context).

Contexts are identified by Python's `hash` of a tuple, so keys are only meaningful inside one
process; the engine never persists them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

END_OF_LINE = "\n"
"""The token that ends every learned line (no real token can contain a newline)."""

LINE_START_KEY = hash(("beastmode.localengine", "^"))
"""The whole-line context of the first token of a line."""

NGRAM_ORDERS = (3, 2, 1)
"""The n-gram context lengths, longest first."""

MAX_LINE_CHARS = 400
"""Longer lines (minified code, data) are neither learned nor completed."""

_TOKEN = re.compile(
    r"""
    [ \t]*
    (?:
        [^\W\d]\w*                                  # identifier or keyword
      | \d[\w.]*                                    # number
      | \*\*=|//=|>>=|<<=|\.\.\.|->|:=|==|!=|<=|>=|\*\*|//|<<|>>|[-+*/%&|^@]=
      | \S                                          # any other single character
    )
    """,
    re.VERBOSE,
)

_intern = sys.intern


def tokenize(content: str) -> list[str]:
    """Split a line's content (no indentation, no newline) into tokens, trailing blanks dropped."""
    return [_intern(token) for token in _TOKEN.findall(content)]


def split_fragment(content: str) -> tuple[list[str], str]:
    """Split the typed part of a line into complete tokens and the fragment being typed.

    The cursor may sit inside a token (`sel|f`), right after one that might still grow (`foo|` can
    become `foobar`, `=` can become `==`) or after blanks; so the last piece is always treated as
    the start of the next token, and candidates must extend it.
    """
    tokens = tokenize(content)
    consumed = sum(len(token) for token in tokens)
    if consumed < len(content):
        return tokens, content[consumed:]
    if tokens:
        return tokens[:-1], tokens[-1]
    return tokens, ""


def extend_chain(chain_key: int, token: str) -> int:
    """Return the whole-line context key after `token`, given the key before it."""
    return hash((chain_key, token))


def context_keys(tokens: Sequence[str], chain_key: int) -> list[tuple[int, int]]:
    """Return `(key, order)` for each context of the position after `tokens`, most specific first.

    `chain_key` is the whole-line key of that position; order 0 names it, orders 1-3 the n-grams.
    """
    keys = [(chain_key, 0)]
    count = len(tokens)
    for order in NGRAM_ORDERS:
        if order <= count:
            keys.append((hash((order, *tokens[count - order :])), order))
    return keys


def line_events(tokens: Sequence[str]) -> list[tuple[int, int, str]]:
    """Return `(context key, order, next token)` for each position of a line, end included."""
    events: list[tuple[int, int, str]] = []
    chain = LINE_START_KEY
    sequence = [*tokens, END_OF_LINE]
    for index, token in enumerate(sequence):
        for key, order in context_keys(sequence[:index], chain):
            events.append((key, order, token))
        chain = extend_chain(chain, token)
    return events


def learnable_lines(text: str) -> list[str]:
    """Return the contents (indentation and trailing blanks removed) of the lines worth learning."""
    lines = []
    for raw in text.splitlines():
        content = raw.strip()
        if content and len(content) <= MAX_LINE_CHARS:
            lines.append(content)
    return lines
