"""The gateway serves the built console and widget from its own origin, with cache headers that
fit each file, and says clearly when the build is missing."""

from __future__ import annotations

from pathlib import Path

from tests.unit.visitor_gateway.edge import client, gateway_app


def _build(root: Path) -> Path:
    (root / "console" / "assets").mkdir(parents=True)
    (root / "console" / "index.html").write_text("<!doctype html><title>console</title>")
    (root / "console" / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "widget.js").write_text("(function(){})();")
    (root / "widget-demo.html").write_text("<!doctype html><title>demo</title>")
    return root


async def test_console_page_is_revalidated_and_hashed_assets_are_cached_for_ever(
    tmp_path: Path,
) -> None:
    app, _ = gateway_app(web_dir=str(_build(tmp_path)))
    async with client(app) as http:
        page = await http.get("/console/")
        asset = await http.get("/console/assets/index-abc123.js")
        bare = await http.get("/console")
    assert page.status_code == 200 and "<title>console</title>" in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert bare.status_code == 308 and bare.headers["location"] == "/console/"


async def test_widget_script_and_demo_page_are_served_and_revalidated(tmp_path: Path) -> None:
    app, _ = gateway_app(web_dir=str(_build(tmp_path)))
    async with client(app) as http:
        script = await http.get("/widget.js")
        demo = await http.get("/widget/demo")
    assert script.status_code == 200 and script.text == "(function(){})();"
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache" and "etag" in script.headers
    assert demo.status_code == 200 and "<title>demo</title>" in demo.text


async def test_a_missing_build_is_a_404_that_says_how_to_build_it(tmp_path: Path) -> None:
    app, _ = gateway_app(web_dir=str(tmp_path / "nothing-here"))
    async with client(app) as http:
        for url in ("/console/", "/console/assets/x.js", "/widget.js", "/widget/demo"):
            answer = await http.get(url)
            assert answer.status_code == 404, url
            assert "make web" in answer.json()["detail"], url


async def test_paths_outside_the_build_are_not_served(tmp_path: Path) -> None:
    built = _build(tmp_path / "dist")
    (tmp_path / "secret.txt").write_text("secret")
    app, _ = gateway_app(web_dir=str(built))
    async with client(app) as http:
        for url in ("/console/../../secret.txt", "/console/%2e%2e/%2e%2e/secret.txt"):
            answer = await http.get(url)
            assert "secret" not in answer.text, url


async def test_widget_origins_may_call_the_visitor_routes_from_their_pages(tmp_path: Path) -> None:
    app, _ = gateway_app(web_dir=str(tmp_path), widget_origins=["https://shop.example"])
    async with client(app) as http:
        allowed = await http.options(
            "/v1/visitor/chat-requests",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        other = await http.options(
            "/v1/visitor/chat-requests",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in other.headers
