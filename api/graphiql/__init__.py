"""GraphiQL served by the service itself: the page and its pinned JavaScript and CSS (`static/`,
refreshed from npm by `make graphiql-assets`; versions in `static/VERSIONS`), so it works on a
machine that reaches no CDN. Switched by `O2C_GRAPHIQL` (on by default)."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/graphiql-assets"

PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>o2c-engine GraphiQL</title>
    <style>body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }} #graphiql {{ height: 100vh; }}</style>
    <link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css" />
  </head>
  <body>
    <div id="graphiql">Loading...</div>
    <script src="{ASSETS_PATH}/react.production.min.js"></script>
    <script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
    <script src="{ASSETS_PATH}/graphiql.min.js"></script>
    <script src="{ASSETS_PATH}/o2c-graphiql.js"></script>
  </body>
</html>
"""


def page() -> HTMLResponse:
    return HTMLResponse(PAGE)


def assets() -> Mount:
    """The route serving the pinned files (cacheable: their names change with `make graphiql-assets`)."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=STATIC), name="graphiql-assets")
