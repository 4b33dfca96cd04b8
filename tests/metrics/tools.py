"""Debian's Prometheus binaries: skipped locally when absent, a failure under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")


def require(binary: Path) -> None:
    """Skip without ``binary``; under CI (which installs the package) its absence fails."""
    if binary.exists():
        return
    reason = f"{binary} is not installed (apt-get install prometheus)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
