"""Wiring: builds the FastAPI application and the services behind it from a config and a database.

The parts live in ``monitor.wiring``; this module keeps the names everything imports.
"""

from __future__ import annotations

from monitor.wiring.roles import Role
from monitor.wiring.services import Services, build_services, site_view
from monitor.wiring.web import create_app

__all__ = ["Role", "Services", "build_services", "create_app", "site_view"]
