"""The catalog under `watch()`: requests resolve from memory, the database is read off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import httpx

from beastmode.registry import Registry
from beastmode.router.catalog import ModelCatalog
from tests.conftest import register
from tests.fakes import FakeModelServer


async def test_watched_catalog_reads_sqlite_only_off_the_loop(
    registry: Registry, environ: dict[str, str], fake: FakeModelServer
) -> None:
    register(registry, "one", fake.openai_chat_url)
    loop_thread = threading.get_ident()
    statements: list[tuple[int, str]] = []
    registry._db.set_trace_callback(lambda sql: statements.append((threading.get_ident(), sql)))
    async with httpx.AsyncClient() as client:
        catalog = ModelCatalog(None, client, environ=environ)
        catalog.expect_registry()
        waiting = asyncio.create_task(catalog.ready())  # a request before the registry is open
        await catalog.attach(registry)
        await waiting
        watcher = asyncio.create_task(catalog.watch(interval=0.05))
        try:
            for _ in range(10):
                await catalog.ready()
                info, _ = catalog.resolve("custom:one")
                assert info.ref == "custom:one"
                await asyncio.sleep(0.02)
            other = Registry.open(environ)  # another process registers a model
            register(other, "two", fake.openai_chat_url)
            other.close()
            deadline = time.monotonic() + 10
            while "two" not in catalog.registered() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert "two" in catalog.registered()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    registry._db.set_trace_callback(None)
    assert [sql for thread, sql in statements if thread != loop_thread]
    assert not [sql for thread, sql in statements if thread == loop_thread]


async def test_catalog_without_a_registry_still_resolves_local(environ: dict[str, str]) -> None:
    async with httpx.AsyncClient() as client:
        catalog = ModelCatalog(None, client, environ=environ)
        catalog.expect_registry()
        await catalog.attach(None)
        await catalog.ready()
        assert catalog.registered() == {}
        info, _ = catalog.resolve("local")
        assert info.kind == "local"
