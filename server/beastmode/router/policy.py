"""When to fall back, when to retry, and which models are cooling down (pure logic).

DESIGN.md's router policy: fall back on connection errors, timeouts, 5xx/529, 429, 401/403, 404,
redirects, malformed or oversized answers, decryption failures and cut streams. Other 4xx end a
chat or generation request with the upstream's message (another model would not fix the request),
but inline completion (task `completion`) moves on to the next model on any failure: a suggestion
is worth more than an error nobody asked to see. Never fall back once streamed text was shown.
Any model that keeps failing, with any error, is skipped for a cooldown (so a gateway answering
every request with the same 400 is asked at most twice per window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from beastmode.errors import (
    AuthenticationFailed,
    BeastModeError,
    DecryptionError,
    InvalidRequest,
    ModelNotFoundError,
    ModelUnavailableError,
    RateLimited,
)

SHORT_RETRY_AFTER_SECONDS = 1.0
COMPLETION_TASK = "completion"


def should_fall_back(error: BeastModeError, task: str = "") -> bool:
    """True when the next model in the chain should be tried after `error` in `task`."""
    return task == COMPLETION_TASK or not isinstance(error, InvalidRequest)


def retry_delay(error: BeastModeError, remaining_seconds: float | None) -> float | None:
    """Seconds to wait before retrying the same model (a short Retry-After), else None."""
    if not isinstance(error, RateLimited) or error.retry_after is None:
        return None
    delay = error.retry_after
    if delay > SHORT_RETRY_AFTER_SECONDS:
        return None
    if remaining_seconds is not None and delay >= remaining_seconds:
        return None
    return delay


@dataclass
class _Health:
    consecutive_failures: int = 0
    cooling_until: float = 0.0
    penalty_seconds: float = 0.0
    last_error: str = ""


class Cooldowns:
    """Tracks failing models and skips them for an exponentially growing cooldown."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        failure_threshold: int = 2,
        base_seconds: float = 30.0,
        max_seconds: float = 300.0,
    ) -> None:
        self._clock = clock
        self._threshold = failure_threshold
        self._base = base_seconds
        self._max = max_seconds
        self._health: dict[str, _Health] = {}

    def remaining(self, ref: str) -> float:
        """Seconds `ref` still has to cool down (0 when usable)."""
        health = self._health.get(ref)
        if health is None:
            return 0.0
        return max(0.0, health.cooling_until - self._clock())

    def last_error(self, ref: str) -> str:
        """The message of the failure that put `ref` in its cooldown ("" when none)."""
        health = self._health.get(ref)
        return health.last_error if health is not None else ""

    def record_success(self, ref: str) -> None:
        """A model answered: forget its failures."""
        self._health.pop(ref, None)

    def record_failure(self, ref: str, error: BeastModeError) -> None:
        """Count a failure; start or extend a cooldown when the model keeps failing.

        Failures found without calling the model (not registered, key not decryptable, no
        provider key) cost nothing to find again and are not counted: the next request re-checks.
        """
        if isinstance(error, ModelNotFoundError | DecryptionError | ModelUnavailableError):
            return
        health = self._health.setdefault(ref, _Health())
        health.consecutive_failures += 1
        health.last_error = str(error)
        now = self._clock()
        if isinstance(error, RateLimited) and error.retry_after:
            health.cooling_until = max(health.cooling_until, now + error.retry_after)
            return
        # A rejected key will not fix itself until the model is registered again.
        immediate = isinstance(error, AuthenticationFailed)
        if immediate or health.consecutive_failures >= self._threshold:
            health.penalty_seconds = min(
                self._max, health.penalty_seconds * 2 if health.penalty_seconds else self._base
            )
            health.cooling_until = now + health.penalty_seconds

    def clear(self, ref: str | None = None) -> None:
        """Forget the state of one model (or of all), e.g. after it was registered again."""
        if ref is None:
            self._health.clear()
        else:
            self._health.pop(ref, None)
