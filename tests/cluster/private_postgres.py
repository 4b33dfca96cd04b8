"""A private, throwaway PostgreSQL cluster for fault drills: restart it without touching the shared one.

``initdb`` into a temporary directory, trust auth, loopback only on a free port, sockets in that
directory, durability off (the data is thrown away). ``pg_ctl -w`` starts, stops and restarts it.
initdb refuses to run as root, so under root the binaries run as the ``postgres`` OS user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

PG_LIB = Path("/usr/lib/postgresql")  # Debian: one bin/ per major version
OS_USER = "postgres"
PG_CTL_WAIT_S = 30  # pg_ctl -w gives up after this; a command never hangs the drill for ever
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",  # throwaway data: durability only costs time
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "40",
    "logging_collector": "off",
}


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL server binaries (or the user to run them as) are not on this machine."""


def find_bindir() -> Path:
    """The newest PostgreSQL ``bin`` directory holding initdb, pg_ctl and postgres."""
    candidates = sorted(
        PG_LIB.glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailableError(f"no initdb/pg_ctl/postgres under {PG_LIB}/*/bin")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """One throwaway cluster; use it as a context manager (created and started, then removed)."""

    def __init__(self, bindir: Path | None = None, port: int | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self._as_user = _run_as_prefix()
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="exwatch-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``postgres`` database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        """The same database as a plain libpq/asyncpg DSN."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> PrivatePostgres:
        try:
            self.create()
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.remove()

    def create(self) -> None:
        """initdb the cluster and write its settings."""
        if self._as_user:
            account = pwd.getpwnam(OS_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        lines = [f"{name} = {value}" for name, value in SETTINGS.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.root}'"]
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("start", "-l", str(self.log))

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect every client at once)."""
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again; every client connection is cut."""
        self._pg_ctl("restart", "-m", mode, "-l", str(self.log))

    def running(self) -> bool:
        """Whether a postmaster is running for this cluster."""
        status = self._command("pg_ctl", "-D", str(self.data), "status")
        return (
            subprocess.run(status, cwd=self.root, capture_output=True, check=False).returncode == 0
        )

    def remove(self) -> None:
        """Stop the server if it runs (immediately: the data is thrown away) and delete it all."""
        try:
            if self.data.exists() and self.running():
                self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _pg_ctl(self, action: str, *options: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", str(PG_CTL_WAIT_S), *options, action)

    def _run(self, tool: str, *arguments: str) -> None:
        done = subprocess.run(
            self._command(tool, *arguments),
            cwd=self.root,  # the postgres user may not be allowed into the caller's directory
            capture_output=True,
            text=True,
            timeout=PG_CTL_WAIT_S + 15,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(arguments)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{self.log_tail()}"
            )

    def _command(self, tool: str, *arguments: str) -> list[str]:
        return [*self._as_user, str(self.bindir / tool), *arguments]


def _run_as_prefix() -> list[str]:
    """``runuser -u postgres --`` under root (initdb refuses root), else nothing."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailableError("running as root and runuser is missing")
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        raise PostgresUnavailableError(f"running as root and no {OS_USER!r} user") from None
    return [runuser, "-u", OS_USER, "--"]


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL for this module's drills; skipped when the binaries are missing."""
    try:
        server = PrivatePostgres()
    except PostgresUnavailableError as error:
        pytest.skip(f"no private PostgreSQL: {error}")
    with server:
        yield server
