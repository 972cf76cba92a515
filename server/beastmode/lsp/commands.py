"""Workspace commands (`workspace/executeCommand`) from DESIGN.md's table.

Each command takes one JSON object, validated by a pydantic model: a bad argument is answered
with InvalidParams naming the field. Results are plain JSON and never hold an API key. Work that
calls a model runs under work-done progress and stops when the request is cancelled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from lsprotocol import types
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pygls.exceptions import JsonRpcInvalidParams

from beastmode.errors import (
    BeastModeError,
    InvalidRegistrationError,
    ModelNotFoundError,
    PathRefusedError,
    StorageError,
)
from beastmode.generation.feature import GeneratedFile, check_paths, parse_feature_answer
from beastmode.generation.messages import (
    PromptMessages,
    build_chat_prompt,
    build_feature_prompt,
)
from beastmode.generation.parsing import extract_markdown_reply
from beastmode.guard import SKIPPED_DIRECTORIES, WorkspaceGuard
from beastmode.lsp.actions import ACTIONS, compute_edit
from beastmode.lsp.arguments import ActionName, ActionTarget, RangeArg
from beastmode.lsp.edits import FileWrite, write_files
from beastmode.lsp.files import file_text, shown_path
from beastmode.lsp.modelcalls import ask_model, chat_request, fail, prompt_budget, router_of
from beastmode.lsp.progress import ReplyTail, WorkDone
from beastmode.lsp.server import BeastModeServer, uri_to_path
from beastmode.providers.base import ChatRequest
from beastmode.registry import ModelRegistration, Registry
from beastmode.registry.store import connect
from beastmode.router import ModelInfo, parse_ref
from beastmode.router.chains import PROVIDER_FALLBACKS
from beastmode.usage import build_report

log = logging.getLogger(__name__)
CHAT_DELTA_NOTIFICATION = "beastmode/chatDelta"
CHAT_DELTA_BY_DELTA_CHARS = 4096
CHAT_BATCH_SECONDS = 0.05
MAX_TREE_ENTRIES = 400
MAX_CONTEXT_DOCUMENTS = 10
Args = TypeVar("Args", bound=BaseModel)
Result = TypeVar("Result")


def _valid_ref(value: str) -> str:
    return str(parse_ref(value))


ModelRefArg = Annotated[str, AfterValidator(_valid_ref)]


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NoArgs(_Arguments):
    """Commands without arguments accept `{}`."""


class RemoveModelArgs(_Arguments):
    """`beastmode.removeModel`."""

    model_id: str = Field(min_length=1, max_length=64)


class TestModelArgs(_Arguments):
    """`beastmode.testModel`."""

    __test__ = False  # not a pytest test class, despite the name

    model: ModelRefArg


class SetDefaultArgs(_Arguments):
    """`beastmode.setDefaultModel`: `task` is one of the tasks, or `*` for all."""

    model: ModelRefArg
    task: Literal["*", "completion", "chat", "refactor", "tests", "feature"] = "*"


class ChatArgs(_Arguments):
    """`beastmode.chat`; `activeDocument` names the editor's active document when known."""

    session_id: str = Field(alias="sessionId", min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=200_000)
    model: ModelRefArg | None = None
    files: list[str] = Field(default_factory=list, max_length=50)
    active_document: str | None = Field(default=None, alias="activeDocument")


class FeatureArgs(_Arguments):
    """`beastmode.generateFeature`."""

    feature_request: str = Field(alias="featureRequest", min_length=1, max_length=50_000)
    model: ModelRefArg | None = None


class RefactorArgs(ActionTarget):
    """`beastmode.refactor`, `beastmode.addDocumentation`: the range is required."""

    range: RangeArg
    model: ModelRefArg | None = None


class TargetArgs(ActionTarget):
    """`beastmode.generateTests`, `beastmode.fixWithAI`: the range is optional."""

    model: ModelRefArg | None = None


class UsageArgs(_Arguments):
    """`beastmode.usage`: `since` is an ISO date or timestamp."""

    since: str | None = None

    def checked_since(self) -> str | None:
        """`since`, validated as an ISO date."""
        if self.since is not None:
            try:
                datetime.fromisoformat(self.since)
            except ValueError:
                raise ValueError("since: must be an ISO date such as 2025-01-31") from None
        return self.since


class AcceptArgs(_Arguments):
    """`beastmode.didAcceptCompletion`."""

    id: str = Field(min_length=1, max_length=200)


def parse_arguments(command: str, model: type[Args], args: tuple[Any, ...]) -> Args:
    """Validate a command's one object argument; InvalidParams names the first bad field."""
    if len(args) > 1:
        raise JsonRpcInvalidParams(f"{command} takes one object argument, got {len(args)}")
    raw = args[0] if args and args[0] is not None else {}
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(f"{command}: the argument must be an object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "arguments"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        raise JsonRpcInvalidParams(f"Invalid arguments for {command}: {field}: {message}") from None


async def _registry(ls: BeastModeServer) -> Registry:
    router_of(ls)
    try:
        return await ls.storage()
    except BeastModeError as exc:
        raise fail(str(exc)) from None


async def _stored(ls: BeastModeServer, function: Callable[..., Result], *args: Any) -> Result:
    """Run a registry call in a storage thread; a storage failure becomes RequestFailed."""
    try:
        return await ls.run_storage(function, *args)
    except StorageError as exc:
        raise fail(str(exc)) from None


def _invalid(field: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{field}: {message}")


def _require_registered(ls: BeastModeServer, ref: str, field: str) -> None:
    parsed = parse_ref(ref)
    if parsed.kind == "custom" and parsed.name not in router_of(ls).catalog.registered():
        raise _invalid(field, str(ModelNotFoundError(parsed.name)))


async def apply_edit(ls: BeastModeServer, edit: types.WorkspaceEdit, label: str) -> bool:
    """Ask the editor to apply `edit`; True when it did."""
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.apply_edit):
        raise fail("This editor does not support workspace/applyEdit, so nothing was changed.")
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label)
    )
    if not result.applied:
        ls.log_to_client(f"BEAST MODE: the editor did not apply the edit: {result.failure_reason}")
    return bool(result.applied)


# Models -----------------------------------------------------------------------------------------


async def register_model(ls: BeastModeServer, raw: dict[str, Any]) -> dict[str, Any]:
    """Store a registration (updating an existing id) and return it without its key."""
    try:
        registration = ModelRegistration.parse(raw)
    except InvalidRegistrationError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    if registration.api_key is not None:
        ls.redactor.add(registration.api_key.get_secret_value())
    registry = await _registry(ls)
    record = await _stored(ls, registry.register, registration)
    await router_of(ls).catalog.refresh_off_loop()
    return record.public_dict()


async def list_models(ls: BeastModeServer) -> dict[str, Any]:
    """Registered models without keys, the provider models usable here, and task defaults."""
    router = router_of(ls)
    providers = [
        {"ref": ref, "kind": "provider"}
        for env, ref in PROVIDER_FALLBACKS.items()
        if ls.environ.get(env)
    ]
    registry = await _registry(ls)
    records = await _stored(ls, registry.list_models)
    return {
        "models": [record.public_dict() for record in records],
        "providers": [*providers, {"ref": "local", "kind": "local"}],
        "defaults": router.catalog.defaults(),
    }


async def remove_model(ls: BeastModeServer, args: RemoveModelArgs) -> dict[str, Any]:
    """Delete a registered model."""
    registry = await _registry(ls)
    try:
        await _stored(ls, registry.remove, args.model_id)
    except ModelNotFoundError as exc:
        raise _invalid("model_id", str(exc)) from None
    await router_of(ls).catalog.refresh_off_loop()
    return {"removed": True}


async def test_model(ls: BeastModeServer, args: TestModelArgs) -> dict[str, Any]:
    """Send a tiny prompt to one model, no fallback, and report how it went."""
    async with WorkDone(ls, f"BEAST MODE: testing {args.model}"):
        result = await router_of(ls).test_model(args.model)
    answer: dict[str, Any] = {
        "ok": result.ok,
        "latency_ms": result.latency_ms,
        "model": result.model,
    }
    if result.error is not None:
        answer["error"] = result.error
    if result.reply is not None:
        answer["reply"] = result.reply
    answer["checks"] = [dataclasses.asdict(check) for check in result.checks]
    return answer


async def set_default_model(ls: BeastModeServer, args: SetDefaultArgs) -> dict[str, Any]:
    """Store the default model for a task (or every task)."""
    registry = await _registry(ls)
    _require_registered(ls, args.model, "model")
    await _stored(ls, registry.set_default, args.task, args.model)
    await router_of(ls).catalog.refresh_off_loop()
    return {"model": args.model, "task": args.task}


# Chat -------------------------------------------------------------------------------------------


def _context_files(ls: BeastModeServer, uris: list[str]) -> list[tuple[str, str]]:
    files = []
    for index, uri in enumerate(uris):
        try:
            found = file_text(ls, uri)
        except PathRefusedError as exc:
            raise _invalid(f"files.{index}", f"cannot read {uri}: {exc}") from None
        if found is None:
            raise _invalid(f"files.{index}", f"cannot read {uri} (not open, not a file on disk)")
        files.append((shown_path(ls, uri), found.text))
    return files


def _active_document(ls: BeastModeServer, uri: str | None) -> tuple[str, str] | None:
    """The active document's name and text, unless it cannot be read (then chat goes without)."""
    if uri is None:
        return None
    try:
        found = file_text(ls, uri)
    except PathRefusedError as exc:
        ls.log_to_client(f"BEAST MODE: chat left out the active document: {exc}")
        return None
    return (shown_path(ls, uri), found.text) if found else None


async def chat(ls: BeastModeServer, args: ChatArgs) -> dict[str, Any]:
    """One chat turn: history and context in, the reply streamed out and stored."""
    router = router_of(ls)
    registry = await _registry(ls)
    stored_history = await _stored(ls, registry.chat_history, args.session_id)
    history = [(m.role, m.content) for m in stored_history]
    files = _context_files(ls, args.files)
    active = _active_document(ls, args.active_document or ls.active_document())

    def build(info: ModelInfo) -> ChatRequest:
        prompt = build_chat_prompt(
            args.message,
            history=history,
            files=files,
            active_document=active,
            max_prompt_tokens=prompt_budget(info),
        )
        return chat_request(prompt, info)

    parts: list[str] = []
    async with WorkDone(ls, "BEAST MODE: chat") as progress:
        routed = router.stream(
            "chat", ls.chain_for("chat", args.model), build, ls.timeouts_for("chat")
        )
        reply_tail = ReplyTail()
        # What reaches the editor while streaming is redacted too, a key split across deltas whole.
        shown = ls.redactor.stream()
        unsent: list[str] = []
        streamed, sent_at = 0, 0.0
        loop = asyncio.get_running_loop()

        def send_unsent() -> None:
            delta = "".join(unsent)
            unsent.clear()
            ls.protocol.notify(
                CHAT_DELTA_NOTIFICATION, {"sessionId": args.session_id, "delta": delta}
            )
            progress.report(reply_tail.text())

        try:
            async for delta in routed:
                parts.append(delta)
                safe = shown.feed(delta)
                unsent.append(safe)
                reply_tail.add(safe)
                streamed += len(delta)
                # A short reply streams delta by delta; a long one is sent in batches a few
                # times a second, so its cost stays linear and small however finely it arrives.
                if (
                    streamed <= CHAT_DELTA_BY_DELTA_CHARS
                    or loop.time() - sent_at >= CHAT_BATCH_SECONDS
                ):
                    send_unsent()
                    sent_at = loop.time()
            unsent.append(shown.finish())
            if any(unsent):
                send_unsent()
        except BeastModeError as exc:
            raise fail(str(exc)) from None
        finally:
            await routed.aclose()
    if routed.model is not None:
        ls.notify_status(routed.model.ref, None, routed.fell_back)
    try:
        reply = extract_markdown_reply("".join(parts))
    except BeastModeError as exc:
        raise fail(str(exc)) from None
    model = routed.model.ref if routed.model else None
    # History is stored in clear and fed to later prompts: no key goes into it.
    message, reply = ls.redactor.redact(args.message), ls.redactor.redact(reply)
    await _stored(ls, registry.append_chat, args.session_id, "user", message, None)
    await _stored(ls, registry.append_chat, args.session_id, "assistant", reply, model)
    return {"sessionId": args.session_id, "reply": reply, "model": model}


# Feature generation -----------------------------------------------------------------------------


def _left_out_of_tree(directory: str) -> bool:
    return directory.startswith(".") or directory in SKIPPED_DIRECTORIES


def workspace_tree(guard: WorkspaceGuard, root: Path, limit: int = MAX_TREE_ENTRIES) -> list[str]:
    """Up to `limit` workspace-relative file paths, skipping hidden and build directories."""
    found: list[str] = []
    for step in guard.walk(root, skip=_left_out_of_tree):
        for name in step.files:
            if name.startswith("."):
                continue
            found.append((step.directory / name).relative_to(root).as_posix())
            if len(found) >= limit:
                return found
    return found


def _open_workspace_documents(ls: BeastModeServer, root: Path) -> list[tuple[str, str]]:
    """Open documents under `root` whose real path the guard allows (no link leading out)."""
    documents = []
    for document in ls.documents:
        path = uri_to_path(document.uri)
        if path is not None and path.is_relative_to(root) and ls.guard.allows(path):
            documents.append((path.relative_to(root).as_posix(), document.text))
    return documents[:MAX_CONTEXT_DOCUMENTS]


def _feature_writes(
    ls: BeastModeServer, placed: list[tuple[str, GeneratedFile]]
) -> list[FileWrite]:
    """One write per real target, each checked by the guard; any refusal refuses them all."""
    targets: dict[Path, GeneratedFile] = {}
    refused: list[str] = []
    for path, generated in placed:
        try:
            targets[ls.guard.writable(path)] = generated
        except PathRefusedError as exc:
            refused.append(str(exc))
    if refused:
        raise fail("; ".join(refused) + ". Nothing was written.")
    writes = []
    for real, generated in targets.items():
        uri = real.as_uri()
        try:
            existing = file_text(ls, uri)
        except PathRefusedError as exc:
            raise fail(f"{exc}. Nothing was written.") from None
        writes.append(FileWrite(uri, generated.content, existing))
    return writes


async def generate_feature(ls: BeastModeServer, args: FeatureArgs) -> dict[str, Any]:
    """Ask for a feature's files and apply them as one edit; unsafe paths write nothing."""
    root = ls.workspace_root
    if root is None:
        raise fail("Open a folder first: feature generation writes files into the workspace.")
    try:
        tree = await asyncio.to_thread(workspace_tree, ls.guard, root)
    except PathRefusedError as exc:
        raise fail(str(exc)) from None
    context = _open_workspace_documents(ls, root)

    def build(info: ModelInfo) -> PromptMessages:
        return build_feature_prompt(
            args.feature_request,
            file_tree=tree,
            files=context,
            max_prompt_tokens=prompt_budget(info),
        )

    async with WorkDone(ls, "BEAST MODE: generating a feature") as progress:
        result = await ask_model(ls, "feature", args.model, build, progress)
        try:
            placed = check_paths(parse_feature_answer(result.text), str(root))
        except BeastModeError as exc:
            raise fail(str(exc)) from None
        writes = _feature_writes(ls, placed)
        progress.report(f"Writing {len(writes)} file(s)")
        applied = await apply_edit(ls, write_files(writes), "BEAST MODE: generate feature")
    return {"files": [write.uri for write in writes], "applied": applied, "model": result.model.ref}


# Actions as commands ----------------------------------------------------------------------------


async def run_action(ls: BeastModeServer, name: ActionName, target: ActionTarget) -> dict[str, Any]:
    """Compute an action's edit and apply it (for clients without codeAction/resolve)."""
    computed = await compute_edit(ls, name, target)
    applied = await apply_edit(ls, computed.edit, ACTIONS[name].title)
    answer: dict[str, Any] = {"applied": applied, "model": computed.model}
    if name == "tests":
        answer["uri"] = computed.uri
    return answer


# Usage ------------------------------------------------------------------------------------------


async def usage_report(ls: BeastModeServer, args: UsageArgs) -> dict[str, Any]:
    """The usage report: summary, per model, per task, and markdown (built off the loop)."""
    try:
        since = args.checked_since()
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"Invalid arguments for beastmode.usage: {exc}") from None
    registry = await _registry(ls)
    usage = ls.usage

    def report() -> dict[str, Any]:
        if usage is not None:
            usage.flush()
        db = connect(registry.path)
        try:
            return build_report(db, since).as_dict()
        finally:
            db.close()

    return await _stored(ls, report)


def did_accept_completion(ls: BeastModeServer, args: AcceptArgs) -> None:
    """Mark an inline suggestion as accepted, for the usage report."""
    if ls.usage is not None:
        ls.usage.mark_accepted(args.id)


# Registration -----------------------------------------------------------------------------------


async def _register_handler(ls: BeastModeServer, args: tuple[Any, ...]) -> Any:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams("beastmode.registerModel takes one object argument")
    return await register_model(ls, args[0])


Runner = Callable[[BeastModeServer, Any], Any | Awaitable[Any]]
COMMANDS: dict[str, tuple[type[BaseModel], Runner]] = {
    "beastmode.listModels": (NoArgs, lambda ls, _: list_models(ls)),
    "beastmode.removeModel": (RemoveModelArgs, remove_model),
    "beastmode.testModel": (TestModelArgs, test_model),
    "beastmode.setDefaultModel": (SetDefaultArgs, set_default_model),
    "beastmode.chat": (ChatArgs, chat),
    "beastmode.generateFeature": (FeatureArgs, generate_feature),
    "beastmode.refactor": (RefactorArgs, lambda ls, a: run_action(ls, "refactor", a)),
    "beastmode.addDocumentation": (RefactorArgs, lambda ls, a: run_action(ls, "docs", a)),
    "beastmode.generateTests": (TargetArgs, lambda ls, a: run_action(ls, "tests", a)),
    "beastmode.fixWithAI": (TargetArgs, lambda ls, a: run_action(ls, "fix", a)),
    "beastmode.usage": (UsageArgs, usage_report),
    "beastmode.didAcceptCompletion": (AcceptArgs, did_accept_completion),
}


async def run(ls: BeastModeServer, name: str, args: tuple[Any, ...]) -> Any:
    """Validate a command's arguments and run it (`lsp/features.py` routes every command here).

    Every result passes the server's redactor: model lists, test results, chat replies and
    usage reports never carry a key.
    """
    if name == "beastmode.registerModel":
        return ls.redactor.redact_data(await _register_handler(ls, args))
    arguments, runner = COMMANDS[name]
    result = runner(ls, parse_arguments(name, arguments, args))
    if isinstance(result, Awaitable):
        result = await result
    return ls.redactor.redact_data(result)
