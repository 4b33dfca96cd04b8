"""HTTP routes of the public page: bytes from the snapshot, with ETag revalidation."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from statuspage.i18n import choose_language
from statuspage.snapshot import SnapshotStore

# Clients must revalidate every time (cheap with ETag): a cached page must never hide an outage.
CACHE_CONTROL = "public, no-cache"
_STYLE = files("statuspage").joinpath("static/style.css").read_bytes()


def build_router(store: SnapshotStore) -> APIRouter:
    """Return the public routes, served from ``store``."""
    router = APIRouter()

    def serve(path: str, request: Request) -> Response:
        language = choose_language(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            store.languages,
        )
        document = store.get(path, language)
        if document is None:
            status = 404 if store.ready else 503
            return PlainTextResponse(
                "not found\n" if store.ready else "starting\n", status_code=status
            )
        headers = {
            "ETag": document.etag,
            "Cache-Control": CACHE_CONTROL,
            "Content-Language": language,
            "Vary": "Accept-Language",
        }
        if document.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(document.body, media_type=document.media_type, headers=headers)

    @router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def index(request: Request) -> Response:
        return serve("/", request)

    @router.api_route("/incidents/{incident_id}", methods=["GET", "HEAD"], include_in_schema=False)
    def incident(incident_id: str, request: Request) -> Response:
        return serve(f"/incidents/{incident_id}", request)

    @router.api_route(
        "/api/v2/{name:path}", methods=["GET", "HEAD"], summary="Statuspage v2 public API"
    )
    def api(name: str, request: Request) -> Response:
        return serve(f"/api/v2/{name}", request)

    @router.get("/static/style.css", include_in_schema=False)
    def style() -> Response:
        return Response(
            _STYLE, media_type="text/css", headers={"Cache-Control": "public, max-age=300"}
        )

    return router
