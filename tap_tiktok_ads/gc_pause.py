"""Python's cyclic garbage collector paused while the tap starts.

The collector runs after every 700 new container objects and walks the young ones, and now and
then all of them. Starting the tap allocates far more than that, all of it kept: importing
singer-sdk and the tap's modules leaves about 50,000 tracked objects, and discovery builds a
catalog of some 13,000 properties, as does parsing the catalog a sync is given. Collecting on
the way took about 50 ms of importing, 30-45 ms of discovery and 10 ms of creating the tap,
all on the path from `meltano run` to the first request (discovery, then the sync's start).
Paused there, the collector does none of that work; reference counting still frees whatever is
dropped. It runs as before for the sync itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block, and as it was after it (also when
    the block raises or exits)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
