"""Model references: `custom:<id>`, `openai:<model>`, `anthropic:<model>` and `local`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beastmode.naming import MODEL_ID_PATTERN

RefKind = Literal["custom", "openai", "anthropic", "local"]


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference."""

    kind: RefKind
    name: str

    def __str__(self) -> str:
        return "local" if self.kind == "local" else f"{self.kind}:{self.name}"


def parse_ref(text: str) -> ModelRef:
    """Parse a model reference, or raise ValueError with a message saying what is accepted."""
    text = text.strip()
    if text == "local":
        return ModelRef("local", "")
    kind, sep, name = text.partition(":")
    if sep and name:
        if kind == "custom":
            if not MODEL_ID_PATTERN.fullmatch(name):
                raise ValueError(f"'{text}': a custom model id must match [a-z0-9][a-z0-9._-]*")
            return ModelRef("custom", name)
        if kind == "openai":
            return ModelRef("openai", name)
        if kind == "anthropic":
            return ModelRef("anthropic", name)
    raise ValueError(
        f"'{text}' is not a model reference: use custom:<id>, openai:<model>, "
        "anthropic:<model> or local"
    )
