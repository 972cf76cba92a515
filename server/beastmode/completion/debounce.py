"""How long to wait after a keystroke before asking the model, adapted to the typist.

A fixed delay is wrong for everyone: too long for someone who pauses after each word, too short
for a fast typist, whose every keystroke would start (and then cancel) a request. In `auto` the
delay is twice the document's recent inter-keystroke interval (an exponentially weighted moving
average), clamped to [min_ms, max_ms]: while someone types at their usual pace the next key
always arrives before the delay runs out, so one request fires per pause. Intervals over one
second are pauses, not typing, and are ignored, as are near-simultaneous changes (under 5 ms:
an auto-closed bracket, a multi-cursor edit).
"""

from __future__ import annotations

from dataclasses import dataclass

# Weight of the newest interval in the moving average.
EWMA_ALPHA = 0.3
# The delay is this many times the typical interval.
INTERVAL_FACTOR = 2.0
# Assumed interval before a document has seen any typing (a brisk typist).
INITIAL_INTERVAL_S = 0.06
MAX_TYPING_INTERVAL_S = 1.0
MIN_TYPING_INTERVAL_S = 0.005


@dataclass
class _Cadence:
    last_keystroke: float
    interval: float | None = None


class AdaptiveDebounce:
    """Per-document debounce delay: `auto`, a fixed number of milliseconds, or 0 for none."""

    def __init__(
        self, setting: str | int | float = "auto", *, min_ms: float = 25, max_ms: float = 250
    ) -> None:
        if min_ms < 0 or max_ms < min_ms:
            raise ValueError("need 0 <= min_ms <= max_ms")
        self._fixed_s = _parse_setting(setting)
        self._min_s = min_ms / 1000
        self._max_s = max_ms / 1000
        self._cadence: dict[str, _Cadence] = {}

    def record_keystroke(self, uri: str, now: float) -> None:
        """Note a change to `uri` at time `now` (seconds, any monotonic clock)."""
        cadence = self._cadence.get(uri)
        if cadence is None:
            self._cadence[uri] = _Cadence(now)
            return
        interval = now - cadence.last_keystroke
        cadence.last_keystroke = now
        if not MIN_TYPING_INTERVAL_S <= interval <= MAX_TYPING_INTERVAL_S:
            return
        if cadence.interval is None:
            cadence.interval = interval
        else:
            cadence.interval = EWMA_ALPHA * interval + (1 - EWMA_ALPHA) * cadence.interval

    def typical_interval(self, uri: str) -> float | None:
        """Return the document's averaged inter-keystroke interval in seconds, if known."""
        cadence = self._cadence.get(uri)
        return None if cadence is None else cadence.interval

    def delay_seconds(self, uri: str, now: float) -> float:
        """Return how much longer to wait at `now` before sending a request for `uri`.

        The delay counts from the document's last keystroke, so time already spent (a request
        that arrives late) is not waited again.
        """
        if self._fixed_s is not None:
            delay = self._fixed_s
        else:
            interval = self.typical_interval(uri) or INITIAL_INTERVAL_S
            delay = min(self._max_s, max(self._min_s, INTERVAL_FACTOR * interval))
        cadence = self._cadence.get(uri)
        elapsed = 0.0 if cadence is None else max(0.0, now - cadence.last_keystroke)
        return max(0.0, delay - elapsed)

    def forget(self, uri: str) -> None:
        """Drop a closed document's typing history."""
        self._cadence.pop(uri, None)


def _parse_setting(setting: str | int | float) -> float | None:
    """Return a fixed delay in seconds, or None for `auto`; raise ValueError on anything else."""
    if isinstance(setting, bool):
        raise ValueError("inline.debounceMs must be 'auto' or a number of milliseconds")
    if isinstance(setting, str):
        text = setting.strip().lower()
        if text == "auto":
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(
                f"inline.debounceMs must be 'auto' or a number of milliseconds, not {setting!r}"
            ) from None
    else:
        value = float(setting)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"inline.debounceMs must be 0 or more milliseconds, not {setting!r}")
    return value / 1000
