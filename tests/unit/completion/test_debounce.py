"""Adaptive debounce: follows the typist's cadence, clamps, fixed and zero settings."""

import pytest

from beastmode.completion.debounce import AdaptiveDebounce

URI = "file:///a.py"


def type_keys(debounce: AdaptiveDebounce, interval: float, count: int, start: float = 0.0) -> float:
    now = start
    for _ in range(count):
        debounce.record_keystroke(URI, now)
        now += interval
    return now - interval


def test_fast_typist_waits_twice_the_interval() -> None:
    debounce = AdaptiveDebounce()
    last = type_keys(debounce, 0.040, 20)
    assert debounce.delay_seconds(URI, last) == pytest.approx(0.080)


def test_every_keystroke_of_steady_typing_arrives_before_the_delay_ends() -> None:
    debounce = AdaptiveDebounce()
    now = 0.0
    for _ in range(20):
        debounce.record_keystroke(URI, now)
        assert debounce.delay_seconds(URI, now) > 0.040
        now += 0.040


def test_slow_typist_is_clamped_to_max() -> None:
    debounce = AdaptiveDebounce()
    last = type_keys(debounce, 0.400, 10)
    assert debounce.delay_seconds(URI, last) == pytest.approx(0.250)


def test_very_fast_changes_are_clamped_to_min() -> None:
    debounce = AdaptiveDebounce(min_ms=25)
    last = type_keys(debounce, 0.010, 30)
    assert debounce.delay_seconds(URI, last) == pytest.approx(0.025)


def test_delay_adapts_when_cadence_changes() -> None:
    debounce = AdaptiveDebounce()
    last = type_keys(debounce, 0.100, 20)
    slow = debounce.delay_seconds(URI, last)
    last = type_keys(debounce, 0.030, 20, start=last + 0.030)
    fast = debounce.delay_seconds(URI, last)
    assert slow == pytest.approx(0.200, abs=0.001)
    assert fast == pytest.approx(0.060, abs=0.002)


def test_pauses_and_simultaneous_changes_do_not_count_as_typing() -> None:
    debounce = AdaptiveDebounce()
    type_keys(debounce, 0.050, 5)
    before = debounce.typical_interval(URI)
    debounce.record_keystroke(URI, 10.0)  # a 9.8 s pause
    debounce.record_keystroke(URI, 10.001)  # auto-closed bracket
    assert debounce.typical_interval(URI) == before == pytest.approx(0.050)


def test_unknown_document_uses_the_initial_guess() -> None:
    assert AdaptiveDebounce().delay_seconds("file:///new", 5.0) == pytest.approx(0.120)


def test_time_already_waited_is_subtracted() -> None:
    debounce = AdaptiveDebounce()
    last = type_keys(debounce, 0.040, 20)
    assert debounce.delay_seconds(URI, last + 0.030) == pytest.approx(0.050)
    assert debounce.delay_seconds(URI, last + 1.0) == 0.0


@pytest.mark.parametrize(("setting", "delay"), [(100, 0.1), (12.5, 0.0125), ("80", 0.08), (0, 0.0)])
def test_fixed_setting_ignores_cadence(setting: int | float | str, delay: float) -> None:
    debounce = AdaptiveDebounce(setting)
    debounce.record_keystroke(URI, 0.0)
    debounce.record_keystroke(URI, 0.040)
    assert debounce.delay_seconds(URI, 0.040) == pytest.approx(delay)


@pytest.mark.parametrize("setting", ["soon", -1, True, float("nan"), float("inf")])
def test_bad_setting_raises(setting: object) -> None:
    with pytest.raises(ValueError, match=r"inline\.debounceMs"):
        AdaptiveDebounce(setting)  # type: ignore[arg-type]


def test_forget_drops_history() -> None:
    debounce = AdaptiveDebounce()
    type_keys(debounce, 0.040, 5)
    debounce.forget(URI)
    assert debounce.typical_interval(URI) is None
