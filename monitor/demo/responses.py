"""JSON responses the exchange gives for bad requests and for broken components."""

from __future__ import annotations

from aiohttp import web

from monitor.demo.faults import FaultMode


def error_response(status: int, message: str) -> web.Response:
    """Return a JSON ``{"error": message}`` response with ``status``."""
    return web.json_response({"error": message}, status=status)


def failure_response(mode: FaultMode | None) -> web.Response | None:
    """Return the response a down or erroring component gives, None when it answers."""
    if mode is FaultMode.DOWN:
        return web.json_response({"status": "down"}, status=503)
    if mode is FaultMode.ERROR:
        return web.json_response({"status": "error", "message": "internal error"}, status=500)
    return None
