"""The one redactor: every form of every known secret is removed from any text."""

from __future__ import annotations

import logging
from pathlib import Path

from beastmode.redaction import REDACTED, Redactor, install_log_redaction

KEY = "sk-live/abc+def=123456"


def test_removes_verbatim_url_encoded_and_json_escaped_forms() -> None:
    redactor = Redactor([KEY])
    text = f'a {KEY} b sk-live%2Fabc%2Bdef%3D123456 c sk-live%2Fabc%2Bdef%3D123456 "{KEY}"'
    out = redactor.redact(text)
    assert "abc" not in out
    assert out.count(REDACTED) == 4


def test_short_values_and_none_are_not_secrets() -> None:
    redactor = Redactor(["ab", None, ""])
    assert redactor.redact("ab cd") == "ab cd"


def test_bearer_tokens_are_redacted_without_being_known() -> None:
    assert Redactor().redact("Authorization: Bearer abcdefgh1234") == (
        f"Authorization: Bearer {REDACTED}"
    )


def test_longer_secret_wins_over_one_it_contains() -> None:
    redactor = Redactor(["secret-one", "secret-one-longer"])
    assert redactor.redact("x secret-one-longer y") == f"x {REDACTED} y"


def test_from_environment_knows_provider_keys_encryption_keys_and_key_file(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("filekey-0123456789\n")
    redactor = Redactor.from_environment(
        {
            "OPENAI_API_KEY": "sk-openai-123456",
            "ENCRYPTION_KEY": "enc-one-123456,enc-two-123456",
            "PATH": "/usr/bin:/bin",
        },
        tmp_path,
    )
    text = "sk-openai-123456 enc-one-123456 enc-two-123456 filekey-0123456789 /usr/bin:/bin"
    assert redactor.redact(text) == f"{REDACTED} {REDACTED} {REDACTED} {REDACTED} /usr/bin:/bin"


def test_log_lines_and_tracebacks_are_redacted(caplog: object) -> None:
    redactor = Redactor([KEY])
    root = logging.getLogger()
    handler = logging.StreamHandler()
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    root.addHandler(handler)
    try:
        install_log_redaction(redactor)
        logger = logging.getLogger("httpx")
        logger.warning("HTTP Request: POST https://h/v1?key=%s", KEY)
        try:
            raise ValueError(f"bad {KEY}")
        except ValueError:
            logger.exception("failed")
    finally:
        root.removeHandler(handler)
    assert records and all(KEY not in line for line in records)
    assert any("ValueError: bad [redacted]" in line for line in records)


def test_a_streamed_secret_split_across_pieces_is_redacted_whole() -> None:
    redactor = Redactor([KEY, "ETXXXXXXXX"])
    for size in (1, 2, 3, 5, 7):
        text = f"your key is {KEY}, and Bearer abcdefghijkl is a token; ETXXXXXXXX done"
        stream = redactor.stream()
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        sent = [stream.feed(piece) for piece in pieces]
        sent.append(stream.finish())
        joined = "".join(sent)
        assert joined == redactor.redact(text), (size, sent)
        assert not any(part and KEY[:8] in part for part in sent)


def test_a_secret_is_never_cut_at_the_held_back_tail() -> None:
    # "SECRET1" is complete but its end "T1" could start "T1XXXXXX": it is not cut in two.
    redactor = Redactor(["SECRET1", "T1XXXXXX"])
    stream = redactor.stream()
    first = stream.feed("a SECRET1")
    assert "SECR" not in first
    assert first + stream.finish() == f"a {REDACTED}"
