"""Settings of the `beastmode` section: typed, fully defaulted, and forgiving of bad input.

They arrive flat (`initializationOptions` *is* the settings object; a `{"beastmode": {...}}`
wrapper is accepted) from initializationOptions, `workspace/configuration` and
`workspace/didChangeConfiguration`. A bad value produces a message naming the field and falls back
to that field's default; it never stops the server. Settings only *choose* among models: endpoints,
base URLs and keys never come from here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from beastmode.router.refs import parse_ref


def _ref(value: str) -> str:
    return str(parse_ref(value))


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
    # Constraints sit on the number arm: on the union pydantic applies them to "auto" too and
    # raises TypeError, which used to drop the whole settings message (the editors' default).
    debounce_ms: Literal["auto"] | Annotated[float, Field(strict=True, ge=0, le=5000)] = Field(
        default="auto", alias="debounceMs"
    )
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
    fallback: list[Annotated[str, AfterValidator(_ref)]] | None = None
    inline: InlineSettings = InlineSettings()
    timeouts: TimeoutSettings = TimeoutSettings()
    usage: UsageSettings = UsageSettings()

    @field_validator("model")
    @classmethod
    def _valid_model(cls, value: str | None) -> str | None:
        return _check_ref(value)

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
    while True:  # each pass drops every bad field it found, so this ends
        try:
            return Settings.model_validate(data), problems
        except ValidationError as exc:
            reasons = _reasons_by_field(exc)
        # Last field first, so dropping a list item does not shift the ones still to drop.
        dropped = [_drop(data, location) for location in reversed(reasons)]
        for location, why in reasons.items():
            field = ".".join(_alias_path([p for p in location if not p.isdigit()]))
            if location[-1].isdigit():
                problems.append(
                    f"Setting beastmode.{field}[{location[-1]}] is invalid ({why}); it is skipped"
                )
            else:
                problems.append(f"Setting beastmode.{field} is invalid ({why}); using the default")
        if not any(dropped):
            return Settings(), problems


def _reasons_by_field(exc: ValidationError) -> dict[tuple[str, ...], str]:
    """One reason per bad field (a union reports one error per arm: they are joined)."""
    reasons: dict[tuple[str, ...], list[str]] = {}
    for error in exc.errors():
        parts = [str(part) for part in error["loc"]]
        location = tuple([p for p in parts if re.fullmatch(r"[A-Za-z_0-9]+", p)][:2]) or (
            "settings",
        )
        reason = error["msg"].removeprefix("Value error, ")
        reasons.setdefault(location, [])
        if reason not in reasons[location]:
            reasons[location].append(reason)
    return {location: " or ".join(why) for location, why in reasons.items()}


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


def _drop(data: dict[str, Any], location: tuple[str, ...]) -> bool:
    """Remove the field (or list item) at `location` and nothing beside it; True if removed."""
    head = location[0]
    nested = data.get(head)
    if len(location) > 1 and isinstance(nested, dict):
        bad = {location[1], *_alias_path(list(location[1:2]))} & nested.keys()
        data[head] = {key: value for key, value in nested.items() if key not in bad}
        return bool(bad)
    if len(location) > 1 and isinstance(nested, list) and location[1].isdigit():
        index = int(location[1])
        data[head] = [item for i, item in enumerate(nested) if i != index]
        return index < len(nested)
    if head not in data:
        return False
    del data[head]
    return True
