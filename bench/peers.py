"""Real peers for benchmarks: nginx serving a small page and Prometheus's blackbox_exporter."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root}/www;
    location / {{ default_type application/json; }}
  }}
}}
"""
BLACKBOX_CONF = """
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      valid_status_codes: [200]
"""


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 10) -> None:
    """Wait until something accepts connections on the loopback port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def require(binary: str) -> str:
    """Return the path of ``binary`` or stop with the Debian package to install."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if path is None:
        raise SystemExit(
            f"{binary} is not installed (apt-get install nginx prometheus-blackbox-exporter)"
        )
    return path


@contextmanager
def nginx(root: Path) -> Iterator[str]:
    """Serve ``{"status":"ok"}`` at http://127.0.0.1:PORT/health.json; yield that URL."""
    port = free_port()
    (root / "www").mkdir(parents=True)
    (root / "tmp").mkdir()
    (root / "www" / "health.json").write_text('{"status":"ok"}')
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port))
    process = subprocess.Popen([require("nginx"), "-c", str(root / "nginx.conf"), "-p", str(root)])
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/health.json"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def blackbox_exporter(root: Path) -> Iterator[tuple[str, int]]:
    """Run blackbox_exporter with an http_2xx module; yield its base URL and pid."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    (root / "blackbox.yml").write_text(BLACKBOX_CONF)
    command = [
        require("prometheus-blackbox-exporter"),
        f"--config.file={root / 'blackbox.yml'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(10)


def process_cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / 100.0  # USER_HZ is 100 on Linux
