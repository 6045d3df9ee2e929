"""The operator console and the visitor widget: the front end built in `web/`, served from the
gateway's own origin (`/console/`, `/widget.js`, `/widget/demo`)."""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

MISSING = (
    "the web front end is not built: run `make web` "
    "(npm ci && npm run build in services/visitor-gateway/web)"
)
FOREVER = "public, max-age=31536000, immutable"  # file names carry a hash of their content
REVALIDATE = "no-cache"  # always asks again; the ETag makes the answer a cheap 304
CONSOLE_POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class BuiltFiles(StaticFiles):
    """StaticFiles that say clearly when the build is missing, and how long a file may be
    cached: hashed assets for ever, everything else revalidated."""

    def __init__(self, directory: Path, *, html: bool = False, policy: str | None = None) -> None:
        super().__init__(directory=directory, html=html, check_dir=False)
        self.root = directory
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.root.is_dir():
            await JSONResponse({"detail": MISSING}, status_code=404)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def file_response(
        self,
        full_path: str | PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        hashed = Path(full_path).parent.name == "assets"
        response.headers["Cache-Control"] = FOREVER if hashed else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        if self.policy and not hashed:
            response.headers["Content-Security-Policy"] = self.policy
        return response


def one_file(directory: Path, name: str, media_type: str) -> JSONResponse | Response:
    found = directory / name
    if not found.is_file():
        return JSONResponse({"detail": MISSING}, status_code=404)
    return FileResponse(
        found,
        media_type=media_type,
        headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"},
    )


def serve_web(app: FastAPI, built: Path) -> None:
    """Mount the built console and widget on `app` (the build lives in `built`)."""

    @app.get("/console", include_in_schema=False)
    async def console_root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=308)

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> Response:
        """The visitor widget: one script, `<script src=".../widget.js" data-site="…">`."""
        return one_file(built, "widget.js", "text/javascript")

    @app.get("/widget/demo", include_in_schema=False)
    async def widget_demo() -> Response:
        """A page that embeds the widget, as any website would."""
        return one_file(built, "widget-demo.html", "text/html")

    app.mount(
        "/console/", BuiltFiles(built / "console", html=True, policy=CONSOLE_POLICY), "console"
    )
