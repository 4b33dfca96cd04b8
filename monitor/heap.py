"""The cyclic garbage collector's settings for a long-running exwatch process.

After start-up the heap is mostly what the frameworks built (SQLAlchemy, pydantic, Jinja2,
FastAPI, the config): a few hundred thousand objects that live as long as the process. The
collector still walked them all in every full collection, about 85 ms each, several times
during a large fan-out, and walked its young objects every 700 allocations. Frozen once
start-up is done, they are out of its sight (they are still freed by reference counting; only
cycles among them would stay), and young objects are collected less often.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 5_000  # allocations between collections of young objects (CPython: 700)


def settle_after_startup() -> None:
    """Freeze what start-up made and collect young objects less often."""
    gc.collect()  # what start-up left as garbage goes now, not frozen with the rest
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
