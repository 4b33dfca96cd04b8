# exwatch: the status page, the API, the checks and the engine in one process.
#   docker build -t exwatch .
#   docker run -p 8080:8080 -v ./my.yaml:/etc/exwatch/exwatch.yaml:ro \
#     -e EXWATCH_DATABASE_URL=postgresql+asyncpg://user:pass@db:5432/exwatch exwatch
# The same image runs the simulated exchange: `docker run exwatch simulate --host 0.0.0.0`.

# Build stage: install the package (no dev extras) into a venv the final image copies whole,
# so pip, the sources and the build's leftovers stay behind.
FROM python:3.11.10-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/exwatch
WORKDIR /src
COPY pyproject.toml README.md ./
COPY probes ./probes
COPY monitor ./monitor
COPY statuspage ./statuspage
COPY notifiers ./notifiers
RUN /opt/exwatch/bin/pip install .

FROM python:3.11.10-slim-bookworm
ENV PATH=/opt/exwatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A fixed uid so volumes and file permissions are predictable across rebuilds.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/exwatch --create-home exwatch
COPY --from=build /opt/exwatch /opt/exwatch
# The compose stack's config is the default; mount your own over it.
COPY deploy/exwatch.yaml /etc/exwatch/exwatch.yaml
# The working directory holds the default SQLite database (./exwatch.db) when
# EXWATCH_DATABASE_URL is not set.
WORKDIR /var/lib/exwatch
USER exwatch
EXPOSE 8080
# slim has no curl: urlopen raises (exit 1) on a refused connection or any non-2xx answer,
# and /healthz answers 503 until the first status snapshot is ready.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["exwatch"]
CMD ["run", "--config", "/etc/exwatch/exwatch.yaml", "--host", "0.0.0.0", "--port", "8080"]
