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
