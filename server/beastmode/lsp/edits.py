"""Turn generated text into `WorkspaceEdit`s: replace a range, create, append to or replace files.

Every edit is one `WorkspaceEdit` with `documentChanges`, so a client applies it (and undoes it)
as a unit: a new file is a `CreateFile` that refuses to overwrite, followed by a
`TextDocumentEdit` inserting its content; an existing file gets a `TextDocumentEdit` against the
text the server saw (versioned when the document is open in the editor).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

from beastmode.lsp.documents import index_to_utf16

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True)
class FileText:
    """A file's current text as the editor sees it: the open document's, else the disk's."""

    uri: str
    text: str
    version: int | None


@dataclass(frozen=True)
class FileWrite:
    """One file's new whole text; `existing` is None for a file to create."""

    uri: str
    content: str
    existing: FileText | None


def end_position(text: str) -> types.Position:
    """The LSP position just past the last character of `text`."""
    lines = _LINE_BREAK.split(text)
    return types.Position(line=len(lines) - 1, character=index_to_utf16(lines[-1], len(lines[-1])))


def _document_edit(
    uri: str, version: int | None, range_: types.Range, new_text: str
) -> types.TextDocumentEdit:
    return types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[types.TextEdit(range=range_, new_text=new_text)],
    )


def replace_range(
    uri: str, version: int | None, range_: types.Range, new_text: str
) -> types.WorkspaceEdit:
    """An edit replacing exactly `range_` of one document with `new_text`."""
    return types.WorkspaceEdit(document_changes=[_document_edit(uri, version, range_, new_text)])


def _split_keeping_ends(text: str) -> list[str]:
    return _LINE.findall(text)


def line_edits(old: str, new: str) -> list[types.TextEdit]:
    """The line edits that turn `old` into `new`, touching only the lines that differ.

    Appended tests become an insert at the end and an added import an insert among the imports,
    so the user's own lines are never rewritten (their cursor, folds and marks stay put).
    """
    old_lines, new_lines = _split_keeping_ends(old), _split_keeping_ends(new)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    end = end_position(old)

    def at(line: int) -> types.Position:
        return types.Position(line=line, character=0) if line < len(old_lines) else end

    return [
        types.TextEdit(
            range=types.Range(start=at(i1), end=at(i2)), new_text="".join(new_lines[j1:j2])
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def write_files(writes: Sequence[FileWrite]) -> types.WorkspaceEdit:
    """One edit that creates each new file of `writes` and changes each existing one in place."""
    changes: list[
        types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
    ] = []
    origin = types.Position(line=0, character=0)
    for write in writes:
        existing = write.existing
        if existing is None:
            options = types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
            changes.append(types.CreateFile(uri=write.uri, options=options))
            whole = types.Range(start=origin, end=origin)
            changes.append(_document_edit(write.uri, None, whole, write.content))
        elif existing.text != write.content:
            changes.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=write.uri, version=existing.version
                    ),
                    edits=list(line_edits(existing.text, write.content)),
                )
            )
    return types.WorkspaceEdit(document_changes=changes)
