"""SQLite's worker threads give way to the event loop instead of preempting it.

aiosqlite runs each SQLite connection's statements on a thread of its own. A thread that was
asleep and is handed a statement is, to Linux's fair scheduler, owed CPU time: it preempts the
event loop's thread at once, in the middle of whatever the loop was doing (answering an SMTP
server, serving a page). In a 100,000-subscriber fan-out the loop was preempted about 0.47
times a mail that way. Under ``SCHED_BATCH`` the thread keeps the same share of the CPU but
does not preempt on waking: it runs when the loop waits for I/O or at the next scheduler tick.
Preemptions fell to 0.05 a mail and the fan-out ran ~10% faster (bench/README.md, #6).

The policy is set from inside the thread (``sched_setscheduler`` on the calling thread), by a
SQL function each new connection calls once: aiosqlite offers no public way to reach its thread.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

FUNCTION = "exwatch_batch_scheduling"


def schedule_as_batch(dbapi_connection: Any) -> None:
    """Put the thread that runs this (aiosqlite) connection's statements under SCHED_BATCH."""
    if not hasattr(os, "SCHED_BATCH"):  # not Linux: leave the thread as it is
        return
    dbapi_connection.create_function(FUNCTION, 0, _batch_this_thread)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SELECT {FUNCTION}()")
    finally:
        cursor.close()


def _batch_this_thread() -> int:
    """Runs in the connection's thread: 1 if it is now SCHED_BATCH, 0 if the system refused."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except OSError as error:  # a sandbox may forbid it: slower, not wrong
        log.debug("SQLite worker thread stays under its scheduling policy: %s", error)
        return 0
    return 1
