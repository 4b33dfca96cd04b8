"""User problem reports: the public report form's endpoint, per-client limits, the user-reported alert.

Wiring (``monitor.app``)::

    desk = ReportDesk(database, engine, config, clock, key=report_key)
    ticker.register("user_reports", desk.tick)
    app.include_router(build_reports_router(desk, access=access))
"""

from monitor.reports.api import build_reports_router
from monitor.reports.desk import Accepted, Refused, Report, ReportDesk

__all__ = ["Accepted", "Refused", "Report", "ReportDesk", "build_reports_router"]
