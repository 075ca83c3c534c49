"""Reading a response body under a total deadline and a size cap.

``requests``' timeout bounds each socket read, not the whole answer: a server sending one byte a
second keeps a request alive forever, and a small gzip body can inflate to gigabytes. The body
is read here in chunks (decompressed by urllib3 at most one chunk at a time), checking the time
left and the decoded size after each one.
"""

from __future__ import annotations

import time

import requests

CHUNK_BYTES = 1 << 16


class BodyTooLarge(Exception):
    """The decoded body grew past the cap."""


class DeadlineExceeded(Exception):
    """The whole answer did not arrive before the deadline."""


def read_body(response: requests.Response, *, deadline: float, max_bytes: int) -> bytes:
    """The decoded body of a ``stream=True`` response, or one of the two errors above.

    ``deadline`` is a :func:`time.monotonic` instant. urllib3's own errors (a cut connection, a
    read timeout, a corrupt gzip stream) propagate unchanged.
    """
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise DeadlineExceeded
        chunk = raw.read1(CHUNK_BYTES, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
