"""Messages for people: a settings change raises at most one message, and names a model once.

Found by hand: 2,000 unknown keys and 2,000 unregistered fallback ids produced 3,409 pop-ups in
three seconds, and 6,001 after one more push.
"""

from __future__ import annotations

from typing import Any

from tests.hardening.client import LspProcess
from tests.hardening.conftest import StartServer

COUNT = 2000


def flood(tag: str) -> dict[str, Any]:
    """Settings with COUNT unknown keys and COUNT unregistered fallback models."""
    settings: dict[str, Any] = {f"unknown{tag}{n}": n for n in range(COUNT)}
    settings["fallback"] = [f"custom:ghost-{tag}-{n}" for n in range(COUNT)] + ["local"]
    return settings


def settings_popups(server: LspProcess) -> list[str]:
    """showMessage texts about settings."""
    return [
        p["message"]
        for p in server.notifications("window/showMessage")
        if "setting" in p["message"].lower()
    ]


def settle(server: LspProcess) -> None:
    """Wait until the server has handled everything sent so far (and its config pull)."""
    assert "error" in server.request("x/barrier", timeout=30)
    assert "error" in server.request("x/barrier", timeout=30)


def test_settings_flood_gives_one_message_per_change(start_server: StartServer) -> None:
    first = flood("a")
    server = start_server(first, configuration=first)
    settle(server)
    server.wait_for(lambda s: len(settings_popups(s)) >= 1, timeout=30)
    settle(server)
    (message,) = settings_popups(server)
    assert "2,000 settings ignored as unknown (unknowna0, unknowna1, unknowna2 and 1,997 more)" in (
        message
    )
    assert "2,000 unregistered models skipped (custom:ghost-a-0" in message

    second = flood("b")
    server.configuration = second
    server.notify("workspace/didChangeConfiguration", {"settings": second})
    settle(server)
    server.wait_for(lambda s: len(settings_popups(s)) >= 2, timeout=30)
    server.notify("workspace/didChangeConfiguration", {"settings": second})  # nothing new
    settle(server)
    popups = settings_popups(server)
    assert len(popups) == 2, popups
    assert "custom:ghost-b-0" in popups[1] and "custom:ghost-a-0" not in popups[1]
    assert len(server.notifications("window/logMessage")) < 10
    assert len(server.notifications("window/showMessage")) <= 3  # + "no model registered yet"


def test_one_unregistered_model_is_named_once_in_full(start_server: StartServer) -> None:
    settings = {"model": "custom:ghost"}
    server = start_server(settings, configuration=settings)
    settle(server)
    # The registry opens off the loop: the message comes once the registered models are known.
    server.wait_for(lambda s: len(settings_popups(s)) >= 1, timeout=30)
    server.notify("workspace/didChangeConfiguration", {"settings": {"model": "custom:ghost"}})
    settle(server)
    popups = settings_popups(server)
    assert popups == [
        "Setting beastmode.model names custom:ghost, which is not registered, so it is ignored. "
        "Register it with `beastmode models add` or the command BEAST MODE: Register Custom Model."
    ]
