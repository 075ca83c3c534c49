"""The tap's process exits without collecting the objects its run leaves behind, and without
losing anything it wrote."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_collector_is_frozen_at_exit_and_the_output_is_whole() -> None:
    script = textwrap.dedent(
        """
        import atexit, gc, sys
        # Registered first, so run last: what the final collections would find.
        atexit.register(lambda: print("frozen at exit", gc.get_freeze_count() > 0, file=sys.stderr))
        from tap_tiktok_ads.process_exit import skip_final_collections
        skip_final_collections()
        skip_final_collections()
        print("frozen before", gc.get_freeze_count() > 0, file=sys.stderr)
        sys.stdout.write("x" * 100_000)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "x" * 100_000
    assert done.stderr.splitlines() == ["frozen before False", "frozen at exit True"]
