"""``POST /api/admin/config/reload`` (role admin): read the config file again and apply it.

200 says what changed and what waits for a restart; 422 lists every problem of an invalid
file (field path and message, as ``exwatch validate`` prints them) and nothing changed; 409
means the change only fits a restart, or the process was not started from a file. The audit
middleware records each call (who, when, from where, and the answer's status).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from monitor.admin.auth import AccessGuard
from monitor.admin.responses import GUARDED
from monitor.admin.tokens import ADMIN
from monitor.config import ConfigError
from monitor.reload.plan import RestartNeededError
from monitor.reload.reloader import ConfigReloader, NotFromFileError

log = logging.getLogger(__name__)


class ListChangesOut(BaseModel):
    """Ids of a list's items that the reload added, removed or changed."""

    added: list[str]
    removed: list[str]
    changed: list[str]


class ReloadOut(BaseModel):
    """What a reload applied (``applied`` is false when the file changed nothing)."""

    source: str
    applied: bool
    checks: ListChangesOut
    components: ListChangesOut
    groups: ListChangesOut
    sections: list[str]
    restart_required: list[str]


class ProblemOut(BaseModel):
    """One problem of the file: where (a field path, or a line of the YAML) and what."""

    path: str
    message: str


class InvalidConfigOut(BaseModel):
    """The file was refused; the config in force did not change."""

    error: str
    source: str
    problems: list[ProblemOut]


class RefusedOut(BaseModel):
    """The reload was not done; the config in force did not change."""

    error: str
    problems: list[str]


def build_config_router(reloader: ConfigReloader, access: AccessGuard) -> APIRouter:
    """Return ``POST /api/admin/config/reload``."""
    router = APIRouter(prefix="/api/admin/config", tags=["admin: config"], responses=GUARDED)

    @router.post(
        "/reload",
        summary="Read the config file again; apply what can change live (admin)",
        response_model=ReloadOut,
        responses={
            409: {"model": RefusedOut, "description": "needs a restart, or no file to read"},
            422: {"model": InvalidConfigOut, "description": "invalid file: nothing changed"},
            503: {"model": RefusedOut, "description": "the database failed: nothing changed"},
        },
    )
    async def reload(actor: str = Depends(access.require(ADMIN))) -> Any:
        try:
            report = await reloader.reload(actor=actor)
        except ConfigError as error:
            return JSONResponse(_invalid(error), status_code=422)
        except (RestartNeededError, NotFromFileError) as error:
            problems = getattr(error, "problems", [str(error)])
            return JSONResponse({"error": "not reloaded", "problems": problems}, status_code=409)
        except (SQLAlchemyError, OSError) as error:
            # The details (addresses, maybe credentials) go to the log, not to the caller.
            log.error("config reload failed on the database, nothing changed: %s", error)
            problems = ["the database did not answer; see the server log"]
            return JSONResponse({"error": "not reloaded", "problems": problems}, status_code=503)
        return report.as_json()

    return router


def _invalid(error: ConfigError) -> dict[str, Any]:
    return {
        "error": "invalid config: nothing changed",
        "source": error.source,
        "problems": [_problem(line) for line in error.problems],
    }


def _problem(line: str) -> dict[str, str]:
    """Split ``path: message`` (a line without a path is all message)."""
    path, found, message = line.partition(": ")
    return {"path": path, "message": message} if found else {"path": "<root>", "message": line}
