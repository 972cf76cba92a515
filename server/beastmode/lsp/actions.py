"""Code actions: refactor, add documentation, generate tests, fix with AI.

`textDocument/codeAction` only offers them: no model is called until the user picks one, and
the offer reads a few lines around the cursor, never the whole document (editors ask on every
cursor move; see `action_regions`). Clients with `codeAction/resolve` support get the edit
computed on resolve; others get a command (`beastmode.refactor`, ...) that computes the edit and
applies it with `workspace/applyEdit`. Both paths run `compute_edit`, which finds the exact
region off the loop and asks the task's model chain under work-done progress.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pydantic import ValidationError
from pygls.exceptions import JsonRpcInvalidParams

from beastmode.errors import BeastModeError, PathRefusedError
from beastmode.generation.languages import Language, language_for
from beastmode.generation.messages import (
    DiagnosticInfo,
    PromptMessages,
    build_docs_prompt,
    build_fix_prompt,
    build_refactor_prompt,
    build_tests_prompt,
)
from beastmode.generation.parsing import extract_code
from beastmode.generation.testfiles import merge_test_file, test_file_for
from beastmode.lsp.action_regions import may_be_in_function
from beastmode.lsp.arguments import (
    ActionData,
    ActionName,
    ActionTarget,
    DiagnosticArg,
    range_arg,
)
from beastmode.lsp.documents import Document, index_to_utf16
from beastmode.lsp.edits import FileWrite, replace_range, write_files
from beastmode.lsp.features import GENERATE_TESTS_KIND
from beastmode.lsp.files import file_text, shown_path
from beastmode.lsp.modelcalls import RequestFailed, ask_model, fail, prompt_budget
from beastmode.lsp.progress import WorkDone
from beastmode.lsp.server import uri_to_path
from beastmode.router import ModelInfo

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionSpec:
    """One code action: its menu title, kind, routing task and fallback command."""

    title: str
    kind: str
    task: str
    command: str
    progress_title: str


ACTIONS: dict[ActionName, ActionSpec] = {
    "refactor": ActionSpec(
        "BEAST MODE: Refactor selection",
        types.CodeActionKind.RefactorRewrite,
        "refactor",
        "beastmode.refactor",
        "BEAST MODE: refactoring",
    ),
    "docs": ActionSpec(
        "BEAST MODE: Add documentation",
        types.CodeActionKind.RefactorRewrite,
        "refactor",
        "beastmode.addDocumentation",
        "BEAST MODE: adding documentation",
    ),
    "tests": ActionSpec(
        "BEAST MODE: Generate tests",
        GENERATE_TESTS_KIND,
        "tests",
        "beastmode.generateTests",
        "BEAST MODE: generating tests",
    ),
    "fix": ActionSpec(
        "BEAST MODE: Fix with AI",
        types.CodeActionKind.QuickFix,
        "refactor",
        "beastmode.fixWithAI",
        "BEAST MODE: fixing",
    ),
}


@dataclass(frozen=True)
class ComputedEdit:
    """An action's edit, the file it mainly changes, and the model that wrote it."""

    edit: types.WorkspaceEdit
    uri: str
    model: str


# Regions ---------------------------------------------------------------------------------------


def _line_range(document: Document, first: int, last: int) -> types.Range:
    """Whole lines `first`..`last` (inclusive), through the last line's line break."""
    start = types.Position(line=first, character=0)
    if last + 1 < document.line_count:
        return types.Range(start=start, end=types.Position(line=last + 1, character=0))
    text = document.line(last)
    return types.Range(
        start=start, end=types.Position(line=last, character=index_to_utf16(text, len(text)))
    )


def _range_text(document: Document, range_: types.Range) -> str:
    start = (range_.start.line, range_.start.character)
    return document.text_range(start, (range_.end.line, range_.end.character))


def _is_empty(range_: types.Range) -> bool:
    return range_.start == range_.end


async def _enclosing(
    ls: BeastModeServer, document: Document, language: Language, line: int
) -> tuple[int, int] | None:
    """The function around `line`, computed off the loop and cached per document version."""

    def current_version() -> int | None:
        current = ls.documents.get(document.uri)
        return current.version if current is document else None

    return await ls.region_cache.enclosing(
        document.uri,
        document.version,
        document.snapshot,
        line,
        language,
        current_version,
    )


async def action_region(
    ls: BeastModeServer,
    document: Document,
    language: Language,
    selection: types.Range,
    whole_file: bool,
) -> types.Range | None:
    """The selection, else the enclosing function, else (when allowed) the whole file."""
    if not _is_empty(selection):
        return selection
    span = await _enclosing(ls, document, language, selection.start.line)
    if span is not None:
        return _line_range(document, *span)
    if whole_file and document.line_count > 0:
        return _line_range(document, 0, document.line_count - 1)
    return None


async def fix_region(
    ls: BeastModeServer,
    document: Document,
    language: Language,
    diagnostics: list[DiagnosticArg],
) -> types.Range:
    """The enclosing function when it holds every diagnostic, else the diagnostics' lines."""
    first = min(d.line for d in diagnostics)
    last = max(d.line for d in diagnostics)
    span = await _enclosing(ls, document, language, first)
    if span is not None and span[0] <= first and last <= span[1]:
        return _line_range(document, *span)
    return _line_range(document, first, last)


def module_name(source: Path, root: Path | None, language: Language) -> str:
    """How a test imports the source: a dotted Python module, else the file's stem."""
    if language.id != "python":
        return source.stem
    try:
        parts = list(source.relative_to(root).with_suffix("").parts) if root else [source.stem]
    except ValueError:
        parts = [source.stem]
    if parts and parts[0] == "src":
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or source.stem


# Computing edits -------------------------------------------------------------------------------


def _document_for(ls: BeastModeServer, target: ActionTarget) -> Document:
    document = ls.documents.get(target.uri)
    if document is None:
        raise fail(f"{target.uri} is not open in the editor; open it and try again.")
    if target.version is not None and target.version != document.version:
        raise fail("The document changed since the action was offered; run it again.")
    return document


async def compute_edit(ls: BeastModeServer, name: ActionName, target: ActionTarget) -> ComputedEdit:
    """Ask the action's model chain and turn the answer into the action's WorkspaceEdit."""
    spec = ACTIONS[name]
    document = _document_for(ls, target)
    path = uri_to_path(document.uri)
    language = language_for(document.language_id, str(path or document.uri))
    shown = shown_path(ls, document.uri)
    selection = target.range.lsp() if target.range else _whole_document_start()
    async with WorkDone(ls, spec.progress_title) as progress:
        if name == "tests":
            return await _tests_edit(ls, target, document, language, selection, progress)
        if name == "fix":
            if not target.diagnostics:
                raise fail("There are no diagnostics to fix here.")
            region = await fix_region(ls, document, language, target.diagnostics)
        else:
            found = await action_region(ls, document, language, selection, whole_file=False)
            if found is None:
                raise fail("Select the code first (the cursor is not inside a function).")
            region = found
        code = _range_text(document, region)
        if not code.strip():
            raise fail("The selection is empty: select the code to change.")
        build = _rewrite_prompt(name, code, language, shown, target, region)
        result = await ask_model(ls, spec.task, target.model, build, progress)
        try:
            new_code = extract_code(result.text, original=code, language=language)
        except BeastModeError as exc:
            raise fail(str(exc)) from None
        edit = replace_range(document.uri, document.version, region, new_code)
        return ComputedEdit(edit, document.uri, result.model.ref)


def _whole_document_start() -> types.Range:
    origin = types.Position(line=0, character=0)
    return types.Range(start=origin, end=origin)


def _rewrite_prompt(
    name: ActionName,
    code: str,
    language: Language,
    path: str,
    target: ActionTarget,
    region: types.Range,
) -> Callable[[ModelInfo], PromptMessages]:
    def build(info: ModelInfo) -> PromptMessages:
        budget = prompt_budget(info)
        if name == "docs":
            return build_docs_prompt(code, language=language, path=path, max_prompt_tokens=budget)
        if name == "fix":
            diagnostics = [
                DiagnosticInfo(
                    line=d.line - region.start.line + 1,
                    message=d.message,
                    source=d.source,
                    code=None if d.code is None else str(d.code),
                )
                for d in target.diagnostics
            ]
            return build_fix_prompt(
                code,
                language=language,
                path=path,
                diagnostics=diagnostics,
                max_prompt_tokens=budget,
            )
        return build_refactor_prompt(
            code,
            language=language,
            instruction=target.instruction,
            path=path,
            max_prompt_tokens=budget,
        )

    return build


async def _tests_edit(
    ls: BeastModeServer,
    target: ActionTarget,
    document: Document,
    language: Language,
    selection: types.Range,
    progress: WorkDone,
) -> ComputedEdit:
    source = uri_to_path(document.uri)
    if source is None:
        raise fail("Save the file first: tests are placed next to it or in tests/.")
    region = await action_region(ls, document, language, selection, whole_file=True)
    code = _range_text(document, region) if region is not None else ""
    if not code.strip():
        raise fail("There is no code here to test.")
    try:
        root = ls.guard.root_of(source, "generate tests for")
        placement = test_file_for(str(source), str(root), language)
        test_uri = Path(placement.path).as_uri()
        ls.guard.writable(placement.path)
        existing = file_text(ls, test_uri)
    except PathRefusedError as exc:
        raise fail(f"{exc}. Nothing was sent to the model or written.") from None
    name = module_name(source, root, language)
    existing_tests = None if placement.inline_module or existing is None else existing.text

    def build(info: ModelInfo) -> PromptMessages:
        return build_tests_prompt(
            code,
            language=language,
            path=shown_path(ls, document.uri),
            module_name=name,
            existing_tests=existing_tests,
            max_prompt_tokens=prompt_budget(info),
        )

    result = await ask_model(ls, "tests", target.model, build, progress)
    try:
        tests = extract_code(result.text, language=language)
    except BeastModeError as exc:
        raise fail(str(exc)) from None
    merged = merge_test_file(existing.text if existing else None, tests, language)
    edit = write_files([FileWrite(test_uri, merged, existing)])
    return ComputedEdit(edit, test_uri, result.model.ref)


# Offering and resolving ------------------------------------------------------------------------


def _kind(kind: str) -> str:
    """A code action kind as its plain string (`str()` of a str-enum member is its name)."""
    return kind.value if isinstance(kind, enum.Enum) else kind


def _wanted(kind: str, only: list[str] | None) -> bool:
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") or o == "" for o in only)


def _client_resolves(ls: BeastModeServer) -> bool:
    text_document = ls.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    if code_action is None or not code_action.data_support:
        return False  # `data` would not come back, and it carries the target
    support = code_action.resolve_support
    return bool(support and "edit" in support.properties)


def _diagnostic_args(diagnostics: list[types.Diagnostic]) -> list[DiagnosticArg]:
    return [
        DiagnosticArg(
            line=d.range.start.line,
            message=d.message,
            source=d.source,
            code=d.code if isinstance(d.code, str | int) else None,
        )
        for d in diagnostics
    ]


def offer_actions(ls: BeastModeServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The actions that make sense at this place, without calling any model."""
    try:
        return _offer_actions(ls, params)
    except ValidationError as exc:  # values no real document has (a range beyond limits, say)
        raise JsonRpcInvalidParams(f"Invalid codeAction params: {exc.errors()[0]['msg']}") from None


def _offer_actions(ls: BeastModeServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return []
    path = uri_to_path(document.uri)
    language = language_for(document.language_id, str(path or document.uri))
    selection = params.range
    has_code = not _is_empty(selection) or may_be_in_function(
        document.line, selection.start.line, language.id
    )
    offered: list[tuple[ActionName, list[types.Diagnostic]]] = []
    if has_code:
        offered += [("refactor", []), ("docs", [])]
    if path is not None:
        offered.append(("tests", []))
    errors = list(params.context.diagnostics)
    if errors:
        offered.append(("fix", errors))
    only = [_kind(kind) for kind in params.context.only] if params.context.only else None
    resolves = _client_resolves(ls)
    actions: list[types.CodeAction] = []
    for name, diagnostics in offered:
        spec = ACTIONS[name]
        if not _wanted(_kind(spec.kind), only):
            continue
        target = ActionTarget(
            uri=document.uri,
            range=range_arg(selection),
            diagnostics=_diagnostic_args(diagnostics),
            version=document.version,
        )
        action = types.CodeAction(title=spec.title, kind=spec.kind, diagnostics=diagnostics or None)
        if resolves:
            data = ActionData(action=name, **target.model_dump())
            action.data = data.model_dump(mode="json", exclude_none=True)
        else:
            arguments = target.model_dump(mode="json", exclude_none=True, exclude={"version"})
            action.command = types.Command(
                title=spec.title, command=spec.command, arguments=[arguments]
            )
        actions.append(action)
    return actions


async def resolve_action(ls: BeastModeServer, action: types.CodeAction) -> types.CodeAction:
    """Compute the edit of an action the user picked."""
    try:
        data = ActionData.model_validate(action.data)
    except ValueError as exc:
        raise JsonRpcInvalidParams(f"Invalid code action data: {exc}") from None
    target = ActionTarget.model_validate(data.model_dump(exclude={"action"}))
    try:
        computed = await compute_edit(ls, data.action, target)
    except RequestFailed as exc:
        with contextlib.suppress(Exception):
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"BEAST MODE: {exc.message}"
                )
            )
        raise
    action.edit = computed.edit
    return action
