"""How long the router may take: for the whole chain, for each attempt, and to the first token."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timeouts:
    """Deadlines: for the whole chain (optional), for each attempt, and to the first token."""

    attempt_seconds: float = 120.0
    first_token_seconds: float = 30.0
    chain_seconds: float | None = None
    max_response_bytes: int = 4_000_000
