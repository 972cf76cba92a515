"""Reading an answer's body under a size cap, decompressing it in bounded steps.

httpx inflates each network chunk whole (a 64 KiB gzip chunk can become 64 MB before anyone counts
it), so we read the raw bytes ourselves and inflate them with zlib's `max_length`: no step
produces more than `STEP_BYTES`, and the decompressed total is checked against the cap as it
grows. We ask only for the encodings decoded here (`ACCEPT_ENCODING`); an answer in any other
(`br`, `zstd`, ...) is refused rather than passed on undecoded.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncGenerator, Iterator
from typing import Protocol

import httpx

from beastmode.errors import MalformedResponse, ResponseTooLarge

ACCEPT_ENCODING = "gzip, deflate"
STEP_BYTES = 64 * 1024
_GZIP_WBITS = zlib.MAX_WBITS | 16
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS


class _Decoder(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]: ...


class _Identity:
    def decode(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data


class _Inflater:
    """zlib inflation that never produces more than STEP_BYTES per step."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._zlib = zlib.decompressobj(wbits)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            yield from self._inflate(data)
        except zlib.error as exc:
            raise MalformedResponse(f"Answer's compressed body is corrupt ({exc})") from None

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if self._wbits == _ZLIB_WBITS and not _zlib_header(data):
                # "deflate" is meant to be zlib-wrapped, but servers also send it raw.
                self._zlib = zlib.decompressobj(_RAW_DEFLATE_WBITS)
        pending = data
        while True:
            out = self._zlib.decompress(pending, STEP_BYTES)
            if out:
                yield out
            pending = self._zlib.unconsumed_tail
            if not pending and len(out) < STEP_BYTES:
                return


def _zlib_header(head: bytes) -> bool:
    """True when `head` starts with a zlib header (RFC 1950: method 8, header checksum)."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


def _decoders(content_encoding: str) -> list[_Decoder]:
    """One decoder per encoding, in the order they must be undone (last applied first)."""
    decoders: list[_Decoder] = []
    for name in reversed([part.strip().lower() for part in content_encoding.split(",")]):
        if name in ("", "identity"):
            decoders.append(_Identity())
        elif name in ("gzip", "x-gzip"):
            decoders.append(_Inflater(_GZIP_WBITS))
        elif name == "deflate":
            decoders.append(_Inflater(_ZLIB_WBITS))
        else:
            raise MalformedResponse(
                f"Answer uses Content-Encoding {name[:40]!r}, which BEAST MODE does not decode "
                f"(it asks for {ACCEPT_ENCODING} only); check the endpoint or the proxy before it"
            )
    return decoders


def _through(decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
    pieces: Iterator[bytes] = iter((data,))
    for decoder in decoders:
        pieces = _chain(decoder, pieces)
    return pieces


def _chain(decoder: _Decoder, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.decode(piece)


async def body_pieces(response: httpx.Response, cap: int) -> AsyncGenerator[bytes, None]:
    """The decompressed body in pieces of at most STEP_BYTES; ResponseTooLarge past `cap` bytes."""
    encoding = response.headers.get("content-encoding", "")
    decoders = _decoders(encoding)
    decompressed = " (after decompression)" if encoding.strip() else ""
    total = 0
    async for raw in response.aiter_raw():
        for piece in _through(decoders, raw):
            total += len(piece)
            if total > cap:
                raise ResponseTooLarge(
                    f"Answer larger than {cap} bytes{decompressed}; "
                    "lower max_tokens or check the endpoint"
                )
            yield piece


async def read_body(response: httpx.Response, cap: int) -> bytes:
    """The whole decompressed body; ResponseTooLarge past `cap` bytes."""
    return b"".join([piece async for piece in body_pieces(response, cap)])


async def read_preview(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` decompressed bytes from the start of the body (for error messages)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with contextlib.aclosing(body_pieces(response, cap=2**62)) as pieces:
            async for piece in pieces:
                chunks.append(piece)
                size += len(piece)
                if size >= limit:
                    break
    except MalformedResponse:
        pass  # a preview of what could be read is all an error message needs
    return b"".join(chunks)[:limit]
