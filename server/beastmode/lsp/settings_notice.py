"""One message for people per settings change: what was ignored, counted, with the first names.

A settings object with thousands of unknown keys or unregistered model ids used to raise one
pop-up per entry (3,409 in three seconds). Here everything a change got wrong becomes at most one
message: up to `FIRST_NAMES` problems are shown in full; more are grouped by kind with their
count and the first few names, and the full list goes to the output log, capped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIRST_NAMES = 3
LOG_LINES = 50
_SETTING_NAME = re.compile(r"beastmode\.([^\s;:(),]+)")


@dataclass(frozen=True)
class UnregisteredModel:
    """A setting that names a `custom:` model nobody registered."""

    setting: str
    ref: str

    def sentence(self) -> str:
        """The full explanation, for when it is the only thing to say."""
        return (
            f"Setting beastmode.{self.setting} names {self.ref}, which is not registered, so it "
            "is ignored. Register it with `beastmode models add` or the command BEAST MODE: "
            "Register Custom Model."
        )


def _kind(problem: str) -> str:
    if "never come from settings" in problem:
        return "refused"
    if "is not a BEAST MODE setting" in problem:
        return "unknown"
    if "is invalid" in problem:
        return "invalid"
    return "other"


_GROUP_TEXT = {
    "refused": "{count} refused (endpoints, URLs and keys come only from `beastmode models add`)",
    "unknown": "{count} ignored as unknown",
    "invalid": "{count} with invalid values (defaults used)",
    "other": "{count} other problems",
}
_GROUP_NOUN = {"refused": "setting", "unknown": "setting", "invalid": "setting", "other": ""}


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:FIRST_NAMES])
    more = len(items) - FIRST_NAMES
    return f"{shown} and {more:,} more" if more > 0 else shown


def _count(number: int, noun: str) -> str:
    if not noun:
        return f"{number:,}"
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def settings_notice(problems: list[str], unregistered: list[UnregisteredModel]) -> str | None:
    """The one message for a settings change, or None when there is nothing new to say."""
    if len(problems) + len(unregistered) == 0:
        return None
    if len(problems) + len(unregistered) <= FIRST_NAMES:  # few: each in full
        sentences = problems + [model.sentence() for model in unregistered]
        return " ".join(s if s.endswith(".") else s + "." for s in sentences)
    groups: dict[str, list[str]] = {}
    for problem in problems:
        match = _SETTING_NAME.search(problem)
        name = match.group(1) if match else problem[:60]
        groups.setdefault(_kind(problem), []).append(name)
    parts = []
    for kind, names in groups.items():
        count = _count(len(names), _GROUP_NOUN[kind])
        parts.append(_GROUP_TEXT[kind].format(count=count) + f" ({_names(names)})")
    if unregistered:
        refs = [model.ref for model in unregistered]
        parts.append(
            f"{_count(len(refs), 'unregistered model')} skipped ({_names(refs)}): register "
            "them with `beastmode models add`"
        )
    return "BEAST MODE ignored part of your settings: " + "; ".join(parts) + "."


def settings_log(problems: list[str], unregistered: list[UnregisteredModel]) -> str:
    """Every problem on its own line for the output log, capped at `LOG_LINES`."""
    lines = problems + [model.sentence() for model in unregistered]
    shown = lines[:LOG_LINES]
    if len(lines) > LOG_LINES:
        shown.append(f"... and {len(lines) - LOG_LINES:,} more")
    return "\n".join(shown)
