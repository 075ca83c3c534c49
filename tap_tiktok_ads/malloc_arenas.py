"""One malloc arena for the whole process, where the C library is glibc.

Report pages are decoded on the client's page workers and freed on the main thread once their
records are written. glibc gives each thread that allocates its own arena (up to eight per
core), and memory freed into an arena only serves that arena's later allocations, so each
worker's arena kept its own high-water mark of decoded pages. With one arena, memory freed by
any thread is reused by all: benchmarks/run.py's cpu and scale scenarios peak about 7 MB lower
at the same speed (the workers mostly wait on the network and decode under the GIL, so they
seldom wait for the arena's lock). A ``MALLOC_ARENA_MAX`` set by the user is left to glibc.
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # glibc's malloc.h
ARENA_VARIABLE = "MALLOC_ARENA_MAX"


def use_one_malloc_arena() -> bool:
    """Ask glibc for a single malloc arena; whether it was set. Threads that have allocated
    already keep their arena: call this before the run starts any."""
    if ARENA_VARIABLE in os.environ or not _glibc():
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1))
    except (OSError, AttributeError):  # no C library to load, or one without mallopt
        return False


def _glibc() -> bool:
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):  # the name is unknown outside glibc
        return False
    return bool(version and version.startswith("glibc"))
