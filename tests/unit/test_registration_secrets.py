"""Registration refuses keys that cannot be one line of ASCII, and credentials in any URL."""

from __future__ import annotations

import logging

import pytest

from beastmode.errors import InvalidRegistrationError
from beastmode.redaction import REDACTED, Redactor, install_log_redaction
from beastmode.registry.records import ModelRegistration, api_key_problem

KEY = "sk-live-0123456789abcdef"
BASE = {"model_name": "M", "model_id": "m1", "endpoint_url": "https://api.example.com/v1"}


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("sk-live-0123\n456789", "a line break"),
        ("sk-live-0123\r456789", "a line break"),
        ("sk-live-0123 456789", "whitespace"),
        ("sk-live-0123\t456789", "a control character"),
        ("sk-live-0123\x00456789", "a control character"),
        ("sk-live-0123\u200b456789", "a control character"),
        ("sk-live-0123\u00a0456789", "whitespace"),
        ("sk-live-0123é456789", "a non-ASCII character"),
        ("sk-live-0123\u2014456789", "a non-ASCII character"),
    ],
)
def test_keys_that_are_not_one_line_of_ascii_are_refused(key: str, kind: str) -> None:
    with pytest.raises(InvalidRegistrationError) as raised:
        ModelRegistration.parse({**BASE, "api_key": key})
    message = str(raised.value)
    assert raised.value.field == "api_key"
    assert f"contains {kind} (at position 13)" in message
    assert key not in message


def test_surrounding_whitespace_is_trimmed_not_refused() -> None:
    registration = ModelRegistration.parse({**BASE, "api_key": f"  {KEY}\n"})
    assert registration.api_key is not None
    assert registration.api_key.get_secret_value() == KEY
    assert api_key_problem(KEY) is None


@pytest.mark.parametrize(
    "query",
    [
        "key=AIzaSecret",
        "api_key=x",
        "apikey=x",
        "api-key=x",
        "API_KEY=x",
        "token=x",
        "access_token=x",
        "auth=x",
        "sig=x",
        "X-Amz-Signature=x",
        "client_secret=x",
        "password=x",
        "api-version=2024-02-01&subscription-key=x",
    ],
)
@pytest.mark.parametrize("field", ["endpoint_url", "completions_url"])
def test_credential_query_parameters_are_refused(field: str, query: str) -> None:
    with pytest.raises(InvalidRegistrationError) as raised:
        ModelRegistration.parse({**BASE, field: f"https://api.example.com/v1?{query}"})
    assert raised.value.field == field
    assert "pass the key as api_key" in str(raised.value)
    assert "AIzaSecret" not in str(raised.value)


def test_ordinary_query_parameters_are_kept() -> None:
    url = "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-02-01"
    assert ModelRegistration.parse({**BASE, "endpoint_url": url}).endpoint_url == url


def test_user_and_password_in_a_url_are_refused() -> None:
    with pytest.raises(InvalidRegistrationError, match="pass the key as api_key"):
        ModelRegistration.parse({**BASE, "endpoint_url": "https://u:p@api.example.com/v1"})


def test_redact_data_reaches_every_string_of_a_json_value() -> None:
    redactor = Redactor([KEY])
    data = {"models": [{"url": f"https://h/{KEY}/v1", "n": 3}], KEY: None, "ok": True}
    assert redactor.redact_data(data) == {
        "models": [{"url": f"https://h/{REDACTED}/v1", "n": 3}],
        REDACTED: None,
        "ok": True,
    }


def test_log_redaction_covers_httpx_records() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        install_log_redaction(Redactor([KEY]))
        record = logging.LogRecord(
            "httpx", logging.INFO, __file__, 1, 'HTTP Request: POST %s "%s"', ("u", KEY), None
        )
        assert handler.filter(record)
        assert record.getMessage() == f'HTTP Request: POST u "{REDACTED}"'
    finally:
        root.removeHandler(handler)
