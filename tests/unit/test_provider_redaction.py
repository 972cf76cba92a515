"""Keys an endpoint echoes back never reach an error message, whatever the body looks like."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest

from beastmode import errors
from beastmode.providers.anthropic import AnthropicProvider
from beastmode.providers.base import ChatRequest, Endpoint, Limits, Provider
from beastmode.providers.openai import OpenAIProvider
from beastmode.redaction import Redactor
from tests.conftest import CANARY_KEY
from tests.fakes import FakeModelServer, Fault, Reply

CHAT = ChatRequest(messages=(("user", "write code"),), max_tokens=64)
OTHER_KEY = "sk-other-model-key-5e8d1f0a9b7c"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def provider_for(
    wire: str, client: httpx.AsyncClient, fake: FakeModelServer, redactor: Redactor | None = None
) -> Provider:
    if wire == "openai":
        endpoint = Endpoint(url=fake.openai_chat_url, upstream_model="m", api_key=CANARY_KEY)
        return OpenAIProvider(client, endpoint, redactor)
    endpoint = Endpoint(url=fake.base_url, upstream_model="m", api_key=CANARY_KEY)
    return AnthropicProvider(client, endpoint, redactor)


async def failure(provider: Provider) -> errors.ProviderError:
    with pytest.raises(errors.ProviderError) as caught:
        async for _ in provider.stream(CHAT, Limits(total_seconds=10)):
            pass
    return caught.value


ECHOES = [
    (Fault.ECHO_KEY_BODY, errors.MalformedResponse, "Invalid credentials"),
    (Fault.ECHO_KEY_REDIRECT, errors.EndpointRedirected, "Moved to login"),
    (Fault.ECHO_KEY_EVENT, errors.MalformedResponse, "unauthorized"),
]


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize(
    ("fault", "expected", "quoted"), ECHOES, ids=[f.value for f, _, _ in ECHOES]
)
async def test_an_echoed_key_is_redacted_from_every_preview(
    wire: str,
    fault: Fault,
    expected: type[errors.ProviderError],
    quoted: str,
    client: httpx.AsyncClient,
    fake: FakeModelServer,
) -> None:
    fake.script(Reply(fault=fault))
    error = await failure(provider_for(wire, client, fake))
    message = str(error)
    assert isinstance(error, expected)
    assert quoted in message and "[redacted]" in message  # the preview is still useful
    assert CANARY_KEY not in message and quote(CANARY_KEY, safe="") not in message
    assert CANARY_KEY[:12] not in message


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_a_key_cut_by_truncation_is_still_redacted(
    wire: str, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    # Truncating first would keep the key's first half, which no redactor then recognises.
    fake.script(Reply(status=400, error_message="x" * 280 + CANARY_KEY))
    message = str(await failure(provider_for(wire, client, fake)))
    assert CANARY_KEY[:10] not in message


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_keys_known_to_the_shared_redactor_are_redacted_too(
    wire: str, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(fault=Fault.IN_BAND_ERROR, text="x" * 40, error_message=f"bad {OTHER_KEY}"))
    message = str(await failure(provider_for(wire, client, fake, Redactor([OTHER_KEY]))))
    assert OTHER_KEY not in message and "[redacted]" in message
