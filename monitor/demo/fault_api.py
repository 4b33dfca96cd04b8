"""The ``/_faults`` API: inject, list and clear faults; no fault ever touches it."""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web

from monitor.demo.faults import DEFAULT_SECONDS, FaultRequestError, FaultTable
from monitor.demo.responses import error_response

_BAD_BODY = "body must be a JSON object with target, mode and seconds"


def fault_routes(faults: FaultTable, targets: tuple[str, ...]) -> Iterator[web.RouteDef]:
    """Yield the ``/_faults`` routes managing ``faults`` on the components in ``targets``."""
    api = _FaultApi(faults, targets)
    yield web.post("/_faults", api.inject)
    yield web.get("/_faults", api.listing)
    yield web.delete("/_faults", api.clear_all)
    yield web.delete("/_faults/{target}", api.clear_one)


class _FaultApi:
    """The handlers behind ``/_faults``, sharing one fault table and its known targets."""

    def __init__(self, faults: FaultTable, targets: tuple[str, ...]) -> None:
        self._faults = faults
        self._targets = targets

    async def inject(self, request: web.Request) -> web.Response:
        """Inject the fault the JSON body describes and return it."""
        try:
            data = await request.json()
        except ValueError:
            return error_response(400, _BAD_BODY)
        if not isinstance(data, dict):
            return error_response(400, _BAD_BODY)
        target = data.get("target")
        if target not in self._targets:
            return self._unknown_target(target)
        seconds = data.get("seconds", DEFAULT_SECONDS)
        try:
            fault = self._faults.inject(target, data.get("mode"), seconds)
        except FaultRequestError as error:
            return error_response(400, str(error))
        return web.json_response(fault.to_json())

    async def listing(self, _request: web.Request) -> web.Response:
        """Return the faults in force."""
        return web.json_response([fault.to_json() for fault in self._faults.active()])

    async def clear_all(self, _request: web.Request) -> web.Response:
        """Clear every fault and say how many were cleared."""
        return web.json_response({"cleared": self._faults.clear()})

    async def clear_one(self, request: web.Request) -> web.Response:
        """Clear the faults on one target and say how many were cleared."""
        target = request.match_info["target"]
        if target not in self._targets:
            return self._unknown_target(target)
        return web.json_response({"cleared": self._faults.clear(target)})

    def _unknown_target(self, target: object) -> web.Response:
        known = ", ".join(self._targets)
        return error_response(400, f"unknown target {target!r}; known: {known}")
