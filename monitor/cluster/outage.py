"""A run of failures to reach PostgreSQL: logged once, retried after a growing, bounded delay."""

from __future__ import annotations

import logging

from monitor.cluster.pg_connection import CONNECTION_ERRORS

MAX_DOUBLINGS = 16  # keeps 2 ** n small; the delay is capped long before


class Outage:
    """Counts consecutive failures of ``what``; logs the first and the recovery, not the rest."""

    def __init__(
        self, logger: logging.Logger, what: str, first_delay: float, max_delay: float
    ) -> None:
        self._logger = logger
        self._what = what
        self._first_delay = first_delay
        self._max_delay = max_delay
        self.failures = 0

    def failed(self, error: BaseException) -> float:
        """Note a failure; return how many seconds to wait before trying again."""
        self.failures += 1
        if self.failures == 1:
            # An unexpected error is worth its traceback, once; a refused connection is not.
            expected = isinstance(error, CONNECTION_ERRORS)
            self._logger.warning(
                "%s failed, retrying until it works: %s",
                self._what,
                error,
                exc_info=None if expected else error,
            )
        else:
            self._logger.debug("%s failed again: %s", self._what, error)
        doublings = min(self.failures - 1, MAX_DOUBLINGS)
        return float(min(self._max_delay, self._first_delay * 2**doublings))

    def recovered(self) -> None:
        """Note a success; log the end of an outage if there was one."""
        if self.failures:
            self._logger.info("%s works again after %d failures", self._what, self.failures)
        self.failures = 0
