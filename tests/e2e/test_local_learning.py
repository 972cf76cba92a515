"""`local` knows the document being edited from its first suggestion, as the engine alone does."""

from __future__ import annotations

from lsprotocol import types

from tests.e2e.conftest import StartClient, open_document

URI = "file:///workspace/orders.py"
# Only this document can teach the engine how the last line goes on.
TEXT = (
    "def ship(order):\n"
    "    warehouse.reserve_pallet(order.sku, quantity=order.quantity, dock=7)\n"
    "\n"
    "def restock(order):\n"
    "    warehouse.reserve_pallet(order.sku, quantity=order.quantity, dock=7)\n"
    "\n"
    "def audit(order):\n"
    "    warehouse.reserve_pallet(order.sku, quantity=order.quantity, dock=7)\n"
    "\n"
    "def cancel(order):\n"
    "    warehouse.reserve_"
)


async def test_a_just_opened_document_is_known_to_its_first_suggestion(
    start_client: StartClient,
) -> None:
    client = await start_client(settings={"model": "local", "fallback": []})
    open_document(client, URI, TEXT)
    last = TEXT.splitlines()[-1]
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=TEXT.count("\n"), character=len(last)),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert result is not None and result.items, "local did not know the document yet"
    assert result.items[0].insert_text == "pallet(order.sku, quantity=order.quantity, dock=7)"
