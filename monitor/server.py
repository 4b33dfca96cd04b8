"""Serving an app with uvicorn inside our own event loop, and logging set up for people."""

from __future__ import annotations

import logging
import socket

import uvicorn
from fastapi import FastAPI


def configure_logging(level: int = logging.INFO) -> None:
    """Log ``time level name: message`` lines to stderr."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("apscheduler", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Overloaded, APScheduler warns once per skipped run (~1,000 a second at 1,000 checks/s,
    # a tenth of the CPU): exwatch_scheduler_skipped_runs_total counts them instead.
    for per_run in ("apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(per_run).setLevel(logging.ERROR)


def uvicorn_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    """Return a uvicorn server for ``app`` (without access logs: the page may take a flood)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    return uvicorn.Server(config)


def port_problem(host: str, port: int) -> str | None:
    """Return why ``host:port`` cannot be listened on, or None if it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None
