"""Settings of the `beastmode` section: typed, fully defaulted, and forgiving of bad input.

They arrive flat (`initializationOptions` *is* the settings object; a `{"beastmode": {...}}`
wrapper is accepted) from initializationOptions, `workspace/configuration` and
`workspace/didChangeConfiguration`. A bad value produces a message naming the field and falls back
to that field's default; it never stops the server. Settings only *choose* among models: endpoints,
base URLs and keys never come from here.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from beastmode.router.refs import parse_ref


def _check_ref(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return str(parse_ref(value))


class TaskModels(BaseModel):
    """Per-task model references (each optional; `model` is used when unset)."""

    model_config = ConfigDict(extra="ignore")

    completion: str | None = None
    chat: str | None = None
    refactor: str | None = None
    tests: str | None = None
    feature: str | None = None

    @field_validator("*")
    @classmethod
    def _valid_ref(cls, value: str | None) -> str | None:
        return _check_ref(value)


class InlineSettings(BaseModel):
    """Inline suggestions while typing."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    enabled: bool = True
    debounce_ms: Literal["auto"] | float = Field(default="auto", alias="debounceMs", ge=0, le=5000)
    multiline: Literal["auto", "always", "never"] = "auto"
    completion_items: Literal["auto"] | bool = Field(default="auto", alias="completionItems")


class TimeoutSettings(BaseModel):
    """Deadlines in milliseconds: completion bounds the whole fallback chain."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    completion_ms: float = Field(default=3000, alias="completionMs", ge=50, le=60_000)
    generation_ms: float = Field(default=120_000, alias="generationMs", ge=1000, le=3_600_000)


class UsageSettings(BaseModel):
    """How usage is priced, and how long its raw rows are kept (daily totals are kept for good)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    baseline_price_per_1k: float = Field(default=0.03, alias="baselinePricePer1k", ge=0, le=100)
    retention_days: int = Field(default=90, alias="retentionDays", ge=1, le=36_500)


class Settings(BaseModel):
    """The whole `beastmode` settings section."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    model: str | None = None
    models: TaskModels = TaskModels()
    fallback: list[str] | None = None
    inline: InlineSettings = InlineSettings()
    timeouts: TimeoutSettings = TimeoutSettings()
    usage: UsageSettings = UsageSettings()

    @field_validator("model")
    @classmethod
    def _valid_model(cls, value: str | None) -> str | None:
        return _check_ref(value)

    @field_validator("fallback")
    @classmethod
    def _valid_fallback(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [str(parse_ref(ref)) for ref in value]

    def task_model(self, task: str) -> str | None:
        """The model chosen for `task` in settings (the task's own, else `model`), if any."""
        own = getattr(self.models, task, None) if task in TaskModels.model_fields else None
        return own or self.model


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Validate raw settings; bad fields fall back to defaults and are described in messages."""
    if isinstance(raw, dict) and isinstance(raw.get("beastmode"), dict):
        raw = raw["beastmode"]
    if raw is None:
        return Settings(), []
    if not isinstance(raw, dict):
        return Settings(), [f"BEAST MODE settings must be an object, got {type(raw).__name__}"]
    data = dict(raw)
    problems = _unknown_keys(data)
    for _ in range(20):  # drop one bad field at a time; each drop is reported
        try:
            return Settings.model_validate(data), problems
        except ValidationError as exc:
            error = exc.errors()[0]
            location = [str(part) for part in error["loc"]]
            location = [p for p in location if re.fullmatch(r"[A-Za-z_0-9]+", p)][:2] or [
                "settings"
            ]
            field = ".".join(_alias_path(location))
            reason = error["msg"].removeprefix("Value error, ")
            problems.append(f"Setting beastmode.{field} is invalid ({reason}); using the default")
            _drop(data, location)
    return Settings(), problems


_FORBIDDEN_HINTS = ("url", "endpoint", "key", "token", "secret", "password", "host", "base")


def _unknown_keys(data: dict[str, Any]) -> list[str]:
    """Messages for keys that are not settings, above all attempts to set endpoints or keys."""
    problems = []
    for key in data:
        if key in Settings.model_fields:
            continue
        if any(hint in key.lower() for hint in _FORBIDDEN_HINTS):
            problems.append(
                f"Setting beastmode.{key} is ignored: endpoints, base URLs and API keys never come "
                "from settings, so a workspace cannot send your code or keys elsewhere. Register "
                "the model with `beastmode models add` (or BEAST MODE: Register Custom Model)."
            )
        else:
            problems.append(f"Setting beastmode.{key} is not a BEAST MODE setting; it is ignored")
    return problems


def _alias_path(location: list[str]) -> list[str]:
    aliases = {
        "debounce_ms": "debounceMs",
        "completion_items": "completionItems",
        "completion_ms": "completionMs",
        "generation_ms": "generationMs",
        "baseline_price_per_1k": "baselinePricePer1k",
        "retention_days": "retentionDays",
    }
    return [aliases.get(part, part) for part in location]


def _drop(data: dict[str, Any], location: list[str]) -> None:
    head = location[0]
    nested = data.get(head)
    if len(location) > 1 and isinstance(nested, dict):
        nested = dict(nested)
        nested.pop(location[1], None)
        nested.pop(_alias_path(location[1:2])[0], None)
        data[head] = nested
    else:
        data.pop(head, None)
