"""Fit the prefix, suffix and snippets of a completion prompt into the model's context.

Tokens are estimated, not counted: we do not have the model's tokenizer, and the estimate must
cost nothing on the typing path. Source code averages about 3.5 characters per token with the
BPE tokenizers code models use (more for long identifiers, fewer for symbols), so
`estimate_tokens` is `ceil(len(text) / 3.5)`; the `reserve` in `prompt_token_budget` absorbs
the error and the template's own special tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from beastmode.completion.snippets import Snippet

# Header, separator and newline tokens a template wraps around one snippet.
SNIPPET_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str) -> int:
    """Estimate the token count of `text` as ceil(characters / 3.5)."""
    return (2 * len(text) + 6) // 7


def _max_chars(tokens: int) -> int:
    """Return the most characters whose estimate stays within `tokens`."""
    return max(0, 7 * tokens // 2)


def snippet_cost(snippet: Snippet) -> int:
    """Estimate the tokens one snippet adds to a prompt (path, text, per-line comment markers)."""
    lines = snippet.text.count("\n") + 1
    return (
        estimate_tokens(snippet.path)
        + estimate_tokens(snippet.text)
        + lines
        + SNIPPET_OVERHEAD_TOKENS
    )


@dataclass(frozen=True)
class PromptBudget:
    """What fits: the end of the prefix, the start of the suffix, and whole snippets."""

    prefix: str
    suffix: str
    snippets: tuple[Snippet, ...]


def keep_prefix_tail(prefix: str, tokens: int) -> str:
    """Keep the end of `prefix` that fits `tokens`, starting at a line boundary.

    When even the cursor's own line does not fit (a minified file), its last characters are
    kept instead: the text next to the cursor matters most.
    """
    limit = _max_chars(tokens)
    if len(prefix) <= limit:
        return prefix
    if limit == 0:
        return ""
    cut = len(prefix) - limit
    newline = prefix.find("\n", cut - 1)
    if newline == -1:
        return prefix[cut:]
    return prefix[newline + 1 :]


def keep_suffix_head(suffix: str, tokens: int) -> str:
    """Keep the start of `suffix` that fits `tokens`, ending after a newline.

    When even the cursor's line does not fit, its first characters are kept instead.
    """
    limit = _max_chars(tokens)
    if len(suffix) <= limit:
        return suffix
    newline = suffix.rfind("\n", 0, limit)
    if newline == -1:
        return suffix[:limit]
    return suffix[: newline + 1]


def fit_to_budget(
    prefix: str,
    suffix: str,
    snippets: Sequence[Snippet],
    *,
    max_prompt_tokens: int,
    snippet_share: float = 0.0,
) -> PromptBudget:
    """Cut prefix and suffix at line boundaries so the prompt fits `max_prompt_tokens`.

    The prefix gets about 3/4 of the budget and the suffix 1/4; a part that needs less than
    its share gives the rest to the other. Snippets (already best first) are added whole, in
    order, from what is left; one that does not fit is skipped for the next.
    `snippet_share` (0 to 1) sets part of the budget aside for snippets before the prefix and
    suffix are cut; it is given back to them when no snippet uses it.
    """
    total = max(0, max_prompt_tokens)
    share = min(1.0, max(0.0, snippet_share))
    reserved = int(total * share) if snippets else 0
    code_budget = total - reserved
    prefix_need, suffix_need = estimate_tokens(prefix), estimate_tokens(suffix)
    prefix_share = code_budget * 3 // 4
    suffix_share = code_budget - prefix_share
    if prefix_need <= prefix_share:
        prefix_tokens = prefix_need
        suffix_tokens = min(suffix_need, code_budget - prefix_tokens)
    elif suffix_need <= suffix_share:
        suffix_tokens = suffix_need
        prefix_tokens = min(prefix_need, code_budget - suffix_tokens)
    else:
        prefix_tokens, suffix_tokens = prefix_share, suffix_share
    kept_prefix = keep_prefix_tail(prefix, prefix_tokens)
    kept_suffix = keep_suffix_head(suffix, suffix_tokens)

    left = total - estimate_tokens(kept_prefix) - estimate_tokens(kept_suffix)
    kept_snippets: list[Snippet] = []
    for snippet in snippets:
        cost = snippet_cost(snippet)
        if cost <= left:
            kept_snippets.append(snippet)
            left -= cost
    if reserved and not kept_snippets:
        return fit_to_budget(prefix, suffix, (), max_prompt_tokens=total)
    return PromptBudget(kept_prefix, kept_suffix, tuple(kept_snippets))


def prompt_token_budget(context_window: int, max_tokens: int, reserve: int = 64) -> int:
    """Tokens left for the prompt: the context window minus the answer and a safety reserve.

    Pass the `max_tokens` of this request (see `mode.max_tokens_for`), not the model's ceiling.
    """
    return max(0, context_window - max_tokens - reserve)
