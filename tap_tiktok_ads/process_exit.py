"""The end of the tap's process, without garbage collections over what the run leaves behind.

As the interpreter exits it clears every module, running full garbage collections that walk
every object still alive (some 60,000 after a report sync): 60 to 130 ms of each run, a tenth
of the wall of benchmarks/run.py's cpu scenario. Frozen (``gc.freeze``) once the exit starts,
those objects are left out of the collections. Everything else happens as at any exit: objects
are freed by reference counting, atexit handlers run (the writer's and logging's flushes among
them), the standard streams are flushed; only objects in reference cycles are not finalized,
and the system takes their memory back with the process's.
"""

from __future__ import annotations

import atexit
import gc

_registered = False


def skip_final_collections() -> None:
    """Freeze the garbage collector when the process exits (once, however often called)."""
    global _registered
    if not _registered:
        atexit.register(gc.freeze)
        _registered = True
