"""The error every refused engine write raises, so loops can tell it from a failure."""

from __future__ import annotations


class WriteRefusedError(RuntimeError):
    """The write guard refused an engine write (this process is no longer the leader)."""
