"""/docs works offline: Swagger UI's page loads only files the service itself serves."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from livechat_shared.runtime.api_docs import serve_api_docs


def _app() -> FastAPI:
    app = FastAPI(title="probe", docs_url=None, redoc_url=None)
    serve_api_docs(app)
    return app


def _links(page: str) -> list[str]:
    found = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ["']([^"']+)["']""", page)
    return [a or b for a, b in found]


async def test_docs_reference_only_local_assets_and_they_load() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        links = _links(page.text)
        assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(links)
        assert "/openapi.json" in links
        for link in links:
            assert link.startswith("/"), f"/docs loads {link} from elsewhere"
            loaded = await http.get(link)
            assert loaded.status_code == 200, link
            assert loaded.content, link
        assert "SwaggerUIBundle" in (await http.get("/docs/assets/swagger-ui-bundle.js")).text
        assert (await http.get("/redoc")).status_code == 404  # it would load from a CDN


async def test_docs_behind_a_prefix_keep_the_prefix() -> None:
    transport = httpx.ASGITransport(app=_app(), root_path="/chat")
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        links = _links((await http.get("/chat/docs")).text)
    assert links and all(link.startswith("/chat/") for link in links), links
