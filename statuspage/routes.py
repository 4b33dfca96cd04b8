"""HTTP routes of the public page: bytes from the snapshot, with ETag revalidation."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from statuspage.i18n import choose_language
from statuspage.snapshot import SnapshotStore

# Clients must revalidate every time (cheap with ETag): a cached page must never hide an outage.
CACHE_CONTROL = "public, no-cache"
_STYLE = files("statuspage").joinpath("static/style.css").read_bytes()


Serve = Callable[..., Response]


def _server(store: SnapshotStore) -> Serve:
    """Return ``serve(path, request, fixed=None)``: the snapshot's bytes with ETag revalidation."""

    def serve(path: str, request: Request, *, fixed: str | None = None) -> Response:
        asked = request.query_params.get("lang")
        if fixed is not None:
            language = asked if asked in store.languages else fixed
        else:
            language = choose_language(
                asked, request.headers.get("accept-language"), store.languages
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

    return serve


def build_router(store: SnapshotStore) -> APIRouter:
    """Return the public routes, served from ``store``."""
    router = APIRouter()
    serve = _server(store)
    _history_routes(router, store, serve)

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


def _history_routes(router: APIRouter, store: SnapshotStore, serve: Serve) -> None:
    """History pages, maintenance pages, feeds and badges (all pre-rendered in the snapshot)."""

    @router.api_route("/history", methods=["GET", "HEAD"], include_in_schema=False)
    def history(request: Request) -> Response:
        page = request.query_params.get("page", "1")
        return serve("/history" if page == "1" else f"/history/{page}", request)

    @router.api_route("/history/{page}", methods=["GET", "HEAD"], include_in_schema=False)
    def history_page(page: str, request: Request) -> Response:
        return serve(f"/history/{page}", request)

    @router.api_route("/maintenance/{window_id}", methods=["GET", "HEAD"], include_in_schema=False)
    def maintenance(window_id: str, request: Request) -> Response:
        return serve(f"/maintenance/{window_id}", request)

    # Feeds and badges answer in ?lang= or a fixed language, never by Accept-Language: their
    # bytes (and entry ids) must not change with who fetches them.
    @router.api_route("/history.{kind}", methods=["GET", "HEAD"], include_in_schema=False)
    def feed(kind: str, request: Request) -> Response:
        return serve(f"/history.{kind}", request, fixed=store.languages[0])

    @router.api_route(
        "/components/{component_id}/{name}", methods=["GET", "HEAD"], include_in_schema=False
    )
    def component_document(component_id: str, name: str, request: Request) -> Response:
        fixed = _english_or_first(store) if name == "badge.svg" else store.languages[0]
        return serve(f"/components/{component_id}/{name}", request, fixed=fixed)

    @router.api_route("/badge.svg", methods=["GET", "HEAD"], include_in_schema=False)
    def badge(request: Request) -> Response:
        return serve("/badge.svg", request, fixed=_english_or_first(store))


def _english_or_first(store: SnapshotStore) -> str:
    return "en" if "en" in store.languages else store.languages[0]
