"""The cyclic garbage collector, set for a process that runs for days.

Measured under load (50 people at once on PostgreSQL, `bench/README.md`): a full collection
walked every object alive, about 117,000 of them built at start and alive until the end (the
content library, SQLAlchemy's mappers and compiled statements, the modules), and paused the
event loop for 90-120 ms; young collections, every 700 allocations, took about 5 % of a
message's CPU. After start-up the survivors are frozen (no collection walks them again) and a
young collection waits for more allocations: a message's garbage cycles (sessions, tasks) are
collected a little later, a few megabytes at most.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 5_000  # allocations between young collections (Python's default: 700)


def settle_after_start() -> None:
    """Call once, when everything the process keeps is built (not in a library or a test)."""
    gc.collect()  # start-up's own garbage goes now, not into the frozen set
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
