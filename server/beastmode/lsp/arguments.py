"""The JSON arguments of the code actions and their commands, as pydantic models.

A code action's `data` and the arguments of `beastmode.refactor` and friends name the same
things: a document, a range in it, the diagnostics to fix. Validating them here means a bad
argument is answered with a message naming the field, for both paths alike.
"""

from __future__ import annotations

from typing import Literal

from lsprotocol import types
from pydantic import BaseModel, ConfigDict, Field

ActionName = Literal["refactor", "docs", "tests", "fix"]


class PositionArg(BaseModel):
    """An LSP position: 0-based line and UTF-16 character."""

    model_config = ConfigDict(extra="forbid")

    line: int = Field(ge=0)
    character: int = Field(ge=0)


class RangeArg(BaseModel):
    """An LSP range."""

    model_config = ConfigDict(extra="forbid")

    start: PositionArg
    end: PositionArg

    def lsp(self) -> types.Range:
        """The range as an lsprotocol `Range`, start before end."""
        first, last = sorted(
            [(self.start.line, self.start.character), (self.end.line, self.end.character)]
        )
        return types.Range(
            start=types.Position(line=first[0], character=first[1]),
            end=types.Position(line=last[0], character=last[1]),
        )


def range_arg(range_: types.Range) -> RangeArg:
    """An lsprotocol `Range` as a `RangeArg`."""
    return RangeArg(
        start=PositionArg(line=range_.start.line, character=range_.start.character),
        end=PositionArg(line=range_.end.line, character=range_.end.character),
    )


class DiagnosticArg(BaseModel):
    """A diagnostic to fix: its 0-based document line and message."""

    model_config = ConfigDict(extra="ignore")

    line: int = Field(ge=0)
    message: str = Field(min_length=1, max_length=5000)
    source: str | None = None
    code: str | int | None = None


class ActionTarget(BaseModel):
    """What an action works on: arguments of the action commands and the data of a code action."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    uri: str = Field(min_length=1)
    range: RangeArg | None = None
    instruction: str | None = Field(default=None, max_length=10_000)
    model: str | None = None
    diagnostics: list[DiagnosticArg] = Field(default_factory=list, max_length=100)
    version: int | None = None


class ActionData(ActionTarget):
    """The `data` of an offered code action: which action, and its target."""

    action: ActionName
