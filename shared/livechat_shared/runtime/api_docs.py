"""Swagger UI at /docs from files shipped in a Python package, so the page works offline."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def serve_api_docs(app: FastAPI) -> None:
    """Mount Swagger UI's assets and a /docs page that loads only them (FastAPI's own /docs and
    /redoc fetch theirs from a CDN: a blank page without the internet). Build the app with
    `docs_url=None, redoc_url=None` first."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="api-docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        # root_path: behind a proxy that strips a prefix the links must keep it.
        root = request.scope.get("root_path", "").rstrip("/")
        assets = f"{root}{ASSETS_PATH}"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )
