"""The inline suggestion pipeline: cache, prompt per model, routed stream, early stop, cleanup.

Protocol-free: `lsp/inline.py` turns LSP params into an `InlineRequest` and the answer back.
One request flows: typed-through cache (no upstream call) -> mode (single/multi-line) -> prompt
built per model as the router tries them (FIM template, server-side FIM, hole-filling chat, or
the local engine's raw prefix) -> streamed deltas fed to `StreamCutter`, stopping and closing
the upstream stream as soon as the suggestion is complete -> `postprocess` -> the secrets check
-> cache.

Secrets: with a `WorkspaceSecrets`, a suggestion (from any model, `local` included) that would
write a secret value found in the workspace is withheld, and known secret values are redacted
from the snippets other files contribute to a prompt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from beastmode.completion.budget import fit_to_budget, prompt_token_budget
from beastmode.completion.cache import TypedThroughCache
from beastmode.completion.chat_prompt import (
    CompletionTagStream,
    build_hole_filling_prompt,
    extract_hole_fill,
)
from beastmode.completion.earlystop import StreamCutter
from beastmode.completion.mode import Mode, decide_mode, max_tokens_for, stop_sequences
from beastmode.completion.postprocess import postprocess
from beastmode.completion.snippets import Snippet, SnippetIndex
from beastmode.completion.templates import resolve_template
from beastmode.providers.base import ChatRequest, FimRequest, ModelRequest
from beastmode.router import ModelInfo, RoutedStream, Router, Timeouts
from beastmode.secrets import WorkspaceSecrets

log = logging.getLogger("beastmode.completion")
CURSOR_WINDOW_LINES = 20
SECRETS_WAIT_SECONDS = 3.0
"""How long a suggestion may wait for secret harvests of just-opened documents (else withheld)."""


@dataclass(frozen=True)
class InlineRequest:
    """Where the cursor is and what surrounds it (windows of the document, not all of it)."""

    uri: str
    language: str
    file_path: str | None
    prefix: str  # text before the cursor, from `prefix_offset` in the document
    prefix_offset: int
    suffix: str  # text after the cursor
    line_prefix: str
    line_suffix: str
    indent: str


@dataclass(frozen=True)
class InlineSuggestion:
    """A suggestion to show, and where it came from."""

    text: str
    model_ref: str | None
    latency_ms: float
    fell_back: bool
    request_id: str | None
    from_cache: bool = False


class InlinePipeline:
    """Produces inline suggestions through the router; holds the cache and snippet index."""

    def __init__(
        self,
        router: Router,
        *,
        workspace_root: str | None = None,
        secrets: WorkspaceSecrets | None = None,
    ) -> None:
        self.router = router
        self.cache = TypedThroughCache()
        self.snippets = SnippetIndex()
        self.workspace_root = workspace_root
        self.secrets = secrets
        self.last_model: str | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def cached(self, request: InlineRequest) -> InlineSuggestion | None:
        """The rest of a shown suggestion the user is typing through, if any (no upstream call)."""
        rest = self.cache.lookup(request.uri, request.prefix, prefix_offset=request.prefix_offset)
        if rest is None:
            return None
        return InlineSuggestion(rest, self.last_model, 0.0, False, None, from_cache=True)

    async def suggest(
        self,
        request: InlineRequest,
        *,
        chain: list[str],
        timeouts: Timeouts,
        multiline: str = "auto",
    ) -> InlineSuggestion | None:
        """Ask the chain for a suggestion; None when there is nothing useful to show.

        Raises AllModelsFailed (or a provider error after text arrived) for the caller to report.
        """
        started = time.monotonic()
        mode = decide_mode(
            request.line_prefix, request.line_suffix, setting=multiline, language=request.language
        )
        window = "\n".join(request.prefix.splitlines()[-CURSOR_WINDOW_LINES:])
        secrets = self.secrets
        snippets = [
            replace(
                snippet,
                path=display_path(snippet.path, self.workspace_root),
                text=secrets.redact(snippet.text) if secrets is not None else snippet.text,
            )
            for snippet in (
                self.snippets.query(window, exclude_path=request.uri) if len(self.snippets) else []
            )
        ]

        def build(info: ModelInfo) -> ModelRequest:
            return build_model_request(info, request, mode, snippets)

        def fresh() -> tuple[StreamCutter, CompletionTagStream]:
            return (
                StreamCutter(
                    mode,
                    line_prefix=request.line_prefix,
                    suffix=request.suffix,
                    indent=request.indent,
                ),
                CompletionTagStream(multiline=mode is Mode.MULTI_LINE),
            )

        cutter, tags = fresh()
        raw: list[str] = []

        def restart() -> None:
            # Nothing is shown until the answer is complete, so a model that fails mid-stream
            # can still be replaced by the next one: start over with its text.
            nonlocal cutter, tags
            raw.clear()
            cutter, tags = fresh()

        routed = self.router.stream("completion", chain, build, timeouts, on_restart=restart)
        answered = False
        try:
            async for delta in routed:
                raw.append(delta)
                is_chat = routed.model is not None and _is_chat(routed.model)
                if cutter.feed(tags.feed(delta) if is_chat else delta) or tags.finished:
                    break
            answered = True
        finally:
            if answered:
                # Close the upstream stream after the caller's answer has gone out, not before:
                # two loop turns, past the done-callback of the caller's task that writes it.
                loop = asyncio.get_running_loop()
                loop.call_soon(loop.call_soon, self._close_in_background, routed)
            else:  # cancelled or failed: close now, so the connection goes at once
                await routed.aclose()
        model = routed.model
        if model is None:
            return None
        text = (
            extract_hole_fill("".join(raw), multiline=mode is Mode.MULTI_LINE)
            if _is_chat(model)
            else cutter.text
        )
        cleaned = postprocess(
            text,
            line_prefix=request.line_prefix,
            line_suffix=request.line_suffix,
            suffix=request.suffix,
            mode=mode,
            indent=request.indent,
        )
        self.last_model = model.ref
        if not cleaned:
            return None
        if secrets is not None and not await _clear_of_secrets(secrets, request, cleaned):
            return None
        self.cache.remember(
            request.uri, request.prefix, cleaned, prefix_offset=request.prefix_offset
        )
        latency = round((time.monotonic() - started) * 1000, 1)
        return InlineSuggestion(cleaned, model.ref, latency, routed.fell_back, routed.request_id)

    def _close_in_background(self, routed: RoutedStream) -> None:
        closing = asyncio.get_running_loop().create_task(routed.aclose())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)


async def _clear_of_secrets(
    secrets: WorkspaceSecrets, request: InlineRequest, suggestion: str
) -> bool:
    """False when `suggestion` would write a workspace secret (or that cannot be checked yet)."""
    if not await secrets.settled(SECRETS_WAIT_SECONDS):
        log.warning("Withheld a suggestion: documents just opened are still being checked")
        return False
    if secrets.completes_secret(request.line_prefix, suggestion, request.line_suffix):
        log.info("Withheld a suggestion that would write a secret found in the workspace")
        return False
    return True


def display_path(uri: str, workspace_root: str | None) -> str:
    """How a model sees another file's name: workspace-relative when it can be, else the path."""
    if not uri.startswith("file://"):
        return uri
    path = unquote(urlsplit(uri).path)
    if workspace_root:
        root = workspace_root.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root) :]
    return path


def _is_chat(info: ModelInfo) -> bool:
    return info.kind != "local" and not info.supports_fim


def build_model_request(
    info: ModelInfo, request: InlineRequest, mode: Mode, snippets: list[Snippet]
) -> ModelRequest:
    """The request for one model: local raw FIM, a family template, server-side FIM, or chat."""
    if info.kind == "local":
        return FimRequest(
            prompt=request.prefix, suffix=request.suffix, max_tokens=64, document=request.uri
        )
    max_tokens = max_tokens_for(mode, info.max_tokens)
    budget = prompt_token_budget(info.context_window, max_tokens)
    fitted = fit_to_budget(
        request.prefix, request.suffix, snippets, max_prompt_tokens=budget, snippet_share=0.2
    )
    temperature = min(info.temperature, 0.2)
    if info.supports_fim:
        template = resolve_template(info.fim_template, info.upstream_model)
        if template is not None:
            prompt = template.render(
                fitted.prefix,
                fitted.suffix,
                file_path=request.file_path,
                repo_snippets=fitted.snippets,
            )
            return FimRequest(
                prompt=prompt,
                suffix=None,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=tuple(stop_sequences(mode, template)),
            )
        return FimRequest(
            prompt=fitted.prefix,
            suffix=fitted.suffix,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=tuple(stop_sequences(mode, None)),
        )
    system, user = build_hole_filling_prompt(
        fitted.prefix,
        fitted.suffix,
        language=request.language,
        file_path=request.file_path,
        snippets=fitted.snippets,
        multiline=mode is Mode.MULTI_LINE,
    )
    return ChatRequest(
        messages=(("user", user),),
        system=system,
        max_tokens=max_tokens + 16,
        temperature=temperature,
        stop=tuple(stop_sequences(mode, None, chat=True)),
    )
