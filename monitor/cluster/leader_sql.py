"""The SQL of the engine leader election, and the advisory lock key it uses."""

from __future__ import annotations

LOCK_KEY = 0x6578_7761_7463_6801
"""The session advisory lock only the engine leader holds: b"exwatch" followed by 0x01.

A fixed 64-bit constant, so every exwatch version agrees on it. pg_locks shows a bigint key
as ``classid`` (its high 32 bits) and ``objid`` (its low 32 bits) with ``objsubid = 1``.
"""

LOCK_CLASSID = LOCK_KEY >> 32
LOCK_OBJID = LOCK_KEY & 0xFFFF_FFFF

ENSURE_ROW = """
INSERT INTO engine_leader (id, epoch, lease_until) VALUES (1, 0, now())
ON CONFLICT (id) DO NOTHING
"""

TRY_LOCK = "SELECT pg_try_advisory_lock($1)"

UNLOCK = "SELECT pg_advisory_unlock($1)"

# now() is the database's clock: engines never compare their own clocks with each other.
ELECT = """
UPDATE engine_leader
SET epoch = epoch + 1, holder = $1, backend_pid = pg_backend_pid(),
    lease_until = now() + $2::float8 * interval '1 second', elected_at = now()
WHERE id = 1
RETURNING epoch
"""

RENEW = """
UPDATE engine_leader SET lease_until = now() + $2::float8 * interval '1 second'
WHERE id = 1 AND epoch = $1
"""

# SKIP LOCKED: a resigning leader never waits for the row; releasing the lock is enough then.
RESIGN = """
UPDATE engine_leader SET lease_until = now()
WHERE id = (SELECT id FROM engine_leader WHERE id = 1 AND epoch = $1 FOR UPDATE SKIP LOCKED)
"""

# The backend that really holds the lock (not merely the pid the row names, which may be stale or
# reused), ended when it is gone quiet by the database's clock: the leader whose lease ran out,
# or a new holder that took the lock but has not written the row for a whole lease (paused in
# the middle of its election). A new holder in its first milliseconds is left alone.
TERMINATE_EXPIRED = """
SELECT lock.pid, pg_terminate_backend(lock.pid, $3::bigint) AS ended
FROM engine_leader AS leader
JOIN pg_locks AS lock
  ON lock.locktype = 'advisory' AND lock.granted
 AND lock.database = (SELECT oid FROM pg_database WHERE datname = current_database())
 AND lock.classid = $1::oid AND lock.objid = $2::oid AND lock.objsubid = 1
JOIN pg_stat_activity AS activity ON activity.pid = lock.pid
WHERE leader.id = 1 AND lock.pid <> pg_backend_pid()
  AND CASE WHEN lock.pid = leader.backend_pid THEN leader.lease_until < now()
           ELSE activity.state_change < now() - $4::float8 * interval '1 second' END
"""

# Who keeps the epoch bump waiting: transactions holding the row FOR SHARE (check_epoch) whose
# client went quiet, typically an old leader paused in the middle of a write. Busy sessions
# (a running migration, say) are left alone.
TERMINATE_IDLE_BLOCKERS = """
SELECT activity.pid, pg_terminate_backend(activity.pid, $2::bigint) AS ended
FROM unnest(pg_blocking_pids($1::integer)) AS blocker(pid)
JOIN pg_stat_activity AS activity ON activity.pid = blocker.pid
WHERE activity.state LIKE 'idle in transaction%'
"""
