"""`local` completes each document with that document's own lines, whichever was opened last."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartClient, open_document

LOCAL_ONLY = {"model": "local", "fallback": []}
PRICES = "file:///workspace/prices.py"
# Only this document says how its last line goes on...
PRICES_TEXT = "value = compute(alpha)\nvalue = compute("
# ...while the documents opened after it say otherwise, twice as often.
NOTES = "file:///workspace/notes.py"
NOTES_TEXT = "x = 1\n"
RATES = "file:///workspace/rates.py"
RATES_TEXT = "value = compute(beta)\nvalue = compute(beta)\n"


async def suggestion_at_end(client: LanguageClient, uri: str, text: str) -> str | None:
    last = text.splitlines()[-1]
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=text.count("\n"), character=len(last)),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    return result.items[0].insert_text if result is not None and result.items else None


async def test_the_first_suggestion_weighs_the_requested_documents_own_lines(
    start_client: StartClient,
) -> None:
    client = await start_client(settings=LOCAL_ONLY)
    for uri, text in ((PRICES, PRICES_TEXT), (NOTES, NOTES_TEXT), (RATES, RATES_TEXT)):
        open_document(client, uri, text)
    # The last document opened (rates.py) is not the one asked about.
    assert await suggestion_at_end(client, PRICES, PRICES_TEXT) == "alpha)"


LEDGER = "file:///workspace/ledger.py"
LEDGER_TEXT = "ledger.settle_invoice(batch, currency='EUR', rounding=2)\n" * 3
TYPING = "ledger.settle_"


async def test_a_closed_document_that_was_never_saved_is_forgotten(
    start_client: StartClient,
) -> None:
    client = await start_client(settings=LOCAL_ONLY)
    open_document(client, LEDGER, LEDGER_TEXT)
    open_document(client, "file:///workspace/first.py", TYPING)
    expected = "invoice(batch, currency='EUR', rounding=2)"
    assert await suggestion_at_end(client, "file:///workspace/first.py", TYPING) == expected
    for uri in (LEDGER, "file:///workspace/first.py"):
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    open_document(client, "file:///workspace/second.py", TYPING)
    assert await suggestion_at_end(client, "file:///workspace/second.py", TYPING) is None


async def test_a_large_document_is_learned_before_its_first_suggestion(
    start_client: StartClient,
) -> None:
    # Well past the size learned on the event loop before: learned in a thread, asked at once.
    filler = "".join(f"item_{index} = make_item({index})\n" for index in range(4000))
    text = filler + LEDGER_TEXT + TYPING
    client = await start_client(settings=LOCAL_ONLY)
    open_document(client, LEDGER, text)
    expected = "invoice(batch, currency='EUR', rounding=2)"
    assert await suggestion_at_end(client, LEDGER, text) == expected
