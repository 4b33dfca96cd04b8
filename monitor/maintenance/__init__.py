"""Maintenance windows: one-off and recurring, announced ahead, muting their components.

Wiring (in ``monitor.app``)::

    maintenance = MaintenanceService(
        engine=services.engine, database=services.database,
        config=services.config, clock=services.clock,
    )
    services.ticker.register("maintenance", maintenance.tick)
    app.include_router(build_maintenance_router(maintenance, access))
"""

from monitor.maintenance.api import build_maintenance_router
from monitor.maintenance.service import MaintenanceService

__all__ = ["MaintenanceService", "build_maintenance_router"]
