"""Settings parsing: every shipped default is accepted, and a bad field never drops its neighbours."""

from __future__ import annotations

import pytest

from beastmode.settings import parse_settings
from tests.e2e.editor_defaults import neovim_defaults, vscode_defaults


def test_vscode_extension_defaults_are_accepted_without_a_message() -> None:
    settings, problems = parse_settings(vscode_defaults())
    assert problems == []
    assert settings.inline.debounce_ms == "auto"
    assert settings.fallback == ["local"]


def test_neovim_config_defaults_are_accepted_without_a_message() -> None:
    defaults = neovim_defaults()
    if defaults is None:
        pytest.skip("Neovim is not installed")
    assert parse_settings(defaults)[1] == []


@pytest.mark.parametrize("value", ["auto", 0, 250, 5000])
def test_debounce_accepts_auto_and_numbers_in_range(value: object) -> None:
    settings, problems = parse_settings({"inline": {"debounceMs": value}})
    assert problems == []
    assert settings.inline.debounce_ms == value


@pytest.mark.parametrize("value", ["fast", -1, 5001, True])
def test_bad_debounce_is_named_and_falls_back_to_auto(value: object) -> None:
    settings, problems = parse_settings({"inline": {"debounceMs": value}})
    assert settings.inline.debounce_ms == "auto"
    assert len(problems) == 1 and "beastmode.inline.debounceMs is invalid" in problems[0]


def test_a_bad_field_keeps_the_valid_fields_beside_it() -> None:
    settings, problems = parse_settings(
        {
            "model": "custom:coder",
            "models": {"chat": "local", "completion": "not a ref"},
            "fallback": ["nope:x", "local", "custom:other"],
            "inline": {"debounceMs": "fast", "multiline": "never", "enabled": False},
            "timeouts": {"completionMs": 1, "generationMs": 5000},
        }
    )
    assert settings.model == "custom:coder"
    assert settings.models.chat == "local" and settings.models.completion is None
    assert settings.fallback == ["local", "custom:other"]
    assert settings.inline.multiline == "never" and settings.inline.enabled is False
    assert settings.inline.debounce_ms == "auto"
    assert settings.timeouts.generation_ms == 5000 and settings.timeouts.completion_ms == 3000
    assert len(problems) == 4, problems


def test_many_bad_fields_are_each_reported_and_the_good_one_survives() -> None:
    raw = {"model": "local", "inline": {"debounceMs": "x", "multiline": 1, "completionItems": 3}}
    raw["timeouts"] = {"completionMs": "slow", "generationMs": -5}
    raw["fallback"] = [f"bad:{i}" for i in range(25)]
    settings, problems = parse_settings(raw)
    assert settings.model == "local"
    assert settings.fallback == []
    assert len(problems) == 30
