"""Which request each kind of model gets for an inline suggestion (pure)."""

from __future__ import annotations

from beastmode.completion.mode import Mode
from beastmode.completion.pipeline import InlineRequest, build_model_request, display_path
from beastmode.providers.base import ChatRequest, FimRequest
from beastmode.router import ModelInfo

REQUEST = InlineRequest(
    uri="file:///w/calc.py",
    language="python",
    file_path="/w/calc.py",
    prefix="def add(a, b):\n    return ",
    prefix_offset=0,
    suffix="\n",
    line_prefix="    return ",
    line_suffix="",
    indent="    ",
)


def info(**overrides: object) -> ModelInfo:
    base: dict[str, object] = dict(
        ref="custom:m",
        kind="custom",
        provider="openai-compatible",
        upstream_model="qwen2.5-coder:7b",
        context_window=8192,
        max_tokens=4000,
        temperature=0.7,
        fim_template="auto",
        supports_fim=True,
        input_cost_per_1k=0.001,
        output_cost_per_1k=0.001,
    )
    base.update(overrides)
    return ModelInfo(**base)  # type: ignore[arg-type]


def test_fim_model_with_known_family_gets_a_rendered_template() -> None:
    request = build_model_request(info(), REQUEST, Mode.SINGLE_LINE, [])
    assert isinstance(request, FimRequest) and request.suffix is None
    assert (
        request.prompt == "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>"
    )
    assert request.stop[0] == "\n" and request.max_tokens == 64 and request.temperature == 0.2


def test_fim_template_none_sends_prefix_and_suffix_for_server_side_fim() -> None:
    request = build_model_request(info(fim_template="none"), REQUEST, Mode.SINGLE_LINE, [])
    assert isinstance(request, FimRequest)
    assert (request.prompt, request.suffix) == ("def add(a, b):\n    return ", "\n")


def test_chat_only_model_gets_the_hole_filling_prompt() -> None:
    request = build_model_request(
        info(supports_fim=False, provider="anthropic-compatible"), REQUEST, Mode.MULTI_LINE, []
    )
    assert isinstance(request, ChatRequest)
    assert "<QUERY>" in request.messages[0][1] and request.stop == ("</COMPLETION>",)


def test_local_engine_gets_the_raw_prefix_and_suffix() -> None:
    request = build_model_request(info(kind="local", ref="local"), REQUEST, Mode.SINGLE_LINE, [])
    assert isinstance(request, FimRequest)
    assert (request.prompt, request.suffix) == (REQUEST.prefix, REQUEST.suffix)


def test_prompt_is_cut_to_the_model_budget() -> None:
    long = InlineRequest(**{**REQUEST.__dict__, "prefix": "x = 1\n" * 5000 + "y = "})
    request = build_model_request(
        info(context_window=1024, max_tokens=200), long, Mode.SINGLE_LINE, []
    )
    assert isinstance(request, FimRequest)
    assert len(request.prompt) / 3.5 <= 1024 - 64 and request.prompt.count("y = ") == 1


def test_snippet_files_are_named_relative_to_the_workspace() -> None:
    assert display_path("file:///w/pkg/util.py", "/w") == "pkg/util.py"
    assert display_path("file:///elsewhere/x.py", "/w") == "/elsewhere/x.py"
    assert display_path("file:///w/a%20b.py", "/w/") == "a b.py"
    assert display_path("untitled:Untitled-1", "/w") == "untitled:Untitled-1"
