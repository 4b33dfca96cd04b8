"""statuspage: the public page, rendered from monitor's read model into a snapshot and served as bytes.

It only consumes what monitor publishes (``monitor.views``); it never changes state.
"""

from statuspage.routes import build_router
from statuspage.snapshot import Rendered, SnapshotStore

__all__ = ["Rendered", "SnapshotStore", "build_router"]
