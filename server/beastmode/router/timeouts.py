"""How long the router may take and how much it may read: per chain, per attempt, per answer."""

from __future__ import annotations

from dataclasses import dataclass

BYTES_PER_TOKEN_ALLOWANCE = 1024
"""Raw bytes an answer may spend per requested token: a streamed token costs ~200 bytes of JSON."""
BASE_RESPONSE_ALLOWANCE = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Deadlines: for the whole chain (optional), for each attempt, and to the first token."""

    attempt_seconds: float = 120.0
    first_token_seconds: float = 30.0
    chain_seconds: float | None = None
    max_response_bytes: int = 4_000_000

    def response_cap(self, max_tokens: int) -> int:
        """Bytes one answer may take: the cap, or less when `max_tokens` cannot need that much.

        An endpoint that ignores `max_tokens` and streams megabytes into a 64-token inline
        suggestion is cut off after a few hundred KB instead of being read (and processed) to
        the full cap.
        """
        allowance = BASE_RESPONSE_ALLOWANCE + max(0, max_tokens) * BYTES_PER_TOKEN_ALLOWANCE
        return min(self.max_response_bytes, allowance)
