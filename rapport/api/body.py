"""Reading a JSON request body within the size limits (Segment's: 32 KB an event, 500 KB a batch)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from fastapi import Request

from rapport.customers.events import InvalidEvent
from rapport.errors import PayloadTooLarge


async def read_json(request: Request, limit: int) -> Any:
    """The parsed body; 413 past ``limit`` bytes (before or after gzip), 400 when it is not JSON."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is {declared} bytes; the limit here is {limit} bytes. Send smaller batches.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes. Send smaller batches.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        raw = _gunzip(raw, limit)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent([{"field": "(body)", "reason": f"not valid JSON: {exc}"}]) from exc


def _gunzip(raw: bytes, limit: int) -> bytes:
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(raw, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise InvalidEvent(
            [{"field": "(body)", "reason": f"Content-Encoding is gzip but the body is not: {exc}"}]
        ) from exc
    if len(out) > limit:
        raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes once decompressed. Send smaller batches.")
    return out
