"""Rendering in a separate process: the same bytes, and surviving the process's death."""

from __future__ import annotations

import multiprocessing
import os
import signal

from statuspage.html import build_environment
from statuspage.snapshot import RenderProcess, SnapshotStore, render_all
from tests.export.support import incident, view


def test_the_render_process_renders_what_this_process_would() -> None:
    renderer = RenderProcess()
    try:
        shown = view(incident(3))
        assert renderer.render(shown) == render_all(build_environment(), shown)
        store = SnapshotStore()
        store.renderer = renderer
        store.publish(shown)
        page = store.get("/incidents/3", "en")
        assert page is not None and b"Outage" in page.body
    finally:
        renderer.close()
    assert not [child for child in multiprocessing.active_children() if child.is_alive()]


def test_a_dead_render_process_is_replaced() -> None:
    renderer = RenderProcess()
    try:
        shown = view()
        renderer.render(shown)
        [worker] = multiprocessing.active_children()
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        assert renderer.render(shown) == render_all(build_environment(), shown)  # here, this once
        assert renderer.render(view(incident(4)))[("/incidents/4", "ja")][1].startswith("text/html")
    finally:
        renderer.close()
