"""Python's cyclic garbage collector paused while the tap starts.

The collector runs after every 700 new container objects and walks the young ones, and now and
then all of them. Starting the tap allocates far more than that, all of it kept: importing
singer-sdk and the tap's modules leaves about 50,000 tracked objects, and discovery builds a
catalog of some 13,000 properties, as does parsing the catalog a sync is given. Collecting on
the way took about 50 ms of importing, 30-45 ms of discovery and 10 ms of creating the tap,
all on the path from `meltano run` to the first request (discovery, then the sync's start).
Paused there, the collector does none of that work; reference counting still frees whatever is
dropped. What the start leaves stays for the whole process, so it is then frozen (`gc.freeze`)
out of the collector's reach: otherwise the first collections after the pause walk all of it
again (18-20 ms for the imports' objects, as much again for the catalog's), and so does every
full collection of a long sync, with the run's threads waiting. The collector runs as before
for whatever the sync allocates.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block, and as it was after it (also when
    the block raises or exits), with every object alive at the block's end frozen: left out
    of later collections (never freed by them; reference counting still frees what is
    dropped)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
