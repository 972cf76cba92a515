"""The registered-model record: what a registration may contain and what is stored.

Field names follow the product guide's registration body, plus ours (DESIGN.md). The API key is
write-only: `ModelRegistration` accepts it as a `SecretStr`, `ModelRecord` never carries it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from beastmode.errors import InvalidRegistrationError
from beastmode.naming import MODEL_ID_PATTERN

ProviderType = Literal["openai-compatible", "anthropic-compatible"]
FIM_FAMILIES = (
    "auto",
    "none",
    "starcoder",
    "codellama",
    "deepseek-coder",
    "qwen2.5-coder",
    "codestral",
    "codegemma",
    "granite",
)


CREDENTIAL_PARAMETER = re.compile(
    r"(?i)^(?:.*[_.-])?(?:key|apikey|token|auth|authorization|sig|signature|secret|password"
    r"|passwd|pwd|credential|credentials)$"
)
"""Query parameter names that carry credentials: `key`, `api_key`, `access_token`, `sig`, ..."""


def _check_http_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials; pass the key as api_key")
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if CREDENTIAL_PARAMETER.match(name.strip()):
            # The URL is stored, listed and logged in clear: a key in it would leak everywhere.
            raise ValueError(
                f"must not carry credentials (query parameter {name!r}); remove it and pass "
                "the key as api_key, which is stored encrypted"
            )
    return value


def api_key_problem(key: str) -> str | None:
    """Why `key` cannot be an API key (None when it can): one line of printable ASCII."""
    for position, character in enumerate(key, start=1):
        if character in "\r\n":
            kind = "a line break"
        elif unicodedata.category(character) in ("Cc", "Cf"):
            kind = "a control character"
        elif character.isspace():
            kind = "whitespace"
        elif not character.isascii():
            kind = "a non-ASCII character"
        else:
            continue
        return (
            f"contains {kind} (at position {position}); an API key is one line of printable "
            "ASCII without spaces: check that only the key was copied"
        )
    return None


class ModelRegistration(BaseModel):
    """A registration request: the guide's fields plus ours; `api_key` is write-only."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    model_name: str = Field(min_length=1, max_length=200)
    model_id: str
    endpoint_url: str
    provider: ProviderType = "openai-compatible"
    api_key: SecretStr | None = None
    description: str = Field(default="", max_length=2000)
    context_window: int = Field(default=8192, ge=256, le=10_000_000)
    max_tokens: int = Field(default=4000, ge=1, le=1_000_000)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    upstream_model: str | None = Field(default=None, min_length=1, max_length=200)
    fim_template: str = "auto"
    completions_url: str | None = None
    input_cost_per_1k: float = Field(default=0.001, ge=0.0, le=1000.0)
    output_cost_per_1k: float = Field(default=0.001, ge=0.0, le=1000.0)

    @field_validator("model_id")
    @classmethod
    def _valid_model_id(cls, value: str) -> str:
        if not MODEL_ID_PATTERN.fullmatch(value):
            raise ValueError(
                "must match [a-z0-9][a-z0-9._-]{0,63} (lower-case letters, digits, '.', '_', '-')"
            )
        return value

    @field_validator("endpoint_url", "completions_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _check_http_url(value)

    @field_validator("api_key")
    @classmethod
    def _valid_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        stripped = value.get_secret_value().strip()
        problem = api_key_problem(stripped)
        if problem is not None:
            raise ValueError(problem)
        return SecretStr(stripped)

    @field_validator("fim_template")
    @classmethod
    def _valid_template(cls, value: str) -> str:
        if value not in FIM_FAMILIES:
            raise ValueError(f"must be one of {', '.join(FIM_FAMILIES)}")
        return value

    def __repr__(self) -> str:
        return f"ModelRegistration(model_id={self.model_id!r}, endpoint_url={self.endpoint_url!r})"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ModelRegistration:
        """Validate a registration body; InvalidRegistrationError names the first bad field."""
        try:
            registration = cls.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "registration"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            raise InvalidRegistrationError(field, message) from None
        if registration.max_tokens >= registration.context_window:
            raise InvalidRegistrationError(
                "max_tokens",
                f"must be smaller than context_window ({registration.context_window})",
            )
        return registration


class ModelRecord(BaseModel):
    """A stored model as everyone but the router sees it: never the key itself."""

    model_config = ConfigDict(frozen=True)

    model_name: str
    model_id: str
    endpoint_url: str
    provider: ProviderType
    description: str
    context_window: int
    max_tokens: int
    temperature: float
    upstream_model: str
    fim_template: str
    completions_url: str | None
    input_cost_per_1k: float
    output_cost_per_1k: float
    has_api_key: bool
    created_at: str
    updated_at: str

    @property
    def ref(self) -> str:
        """The model reference, `custom:<id>`."""
        return f"custom:{self.model_id}"

    def public_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data for command results and `models list --json`."""
        return {"ref": self.ref, **self.model_dump()}
