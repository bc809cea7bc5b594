"""GraphiQL at GET /graphql, entirely from this server (no CDN: it works offline).

Its bundles come from npm packages that `make ide` installs into ``ide/node_modules``
(git-ignored; ``ide/package.json`` pins them): GraphiQL 3 and React 18 ship browser-ready
UMD builds, graphql-ws its UMD client. They are served under ``/graphiql/`` from a fixed list,
with graph/ide.js, the page's own script: the bearer token lives in GraphiQL's Headers editor,
queries and mutations go over HTTP with those headers, subscriptions over graphql-ws with
the same ``Authorization`` in ``connection_init``. ``GRAPHIQL_ASSETS`` names another
node_modules folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

HERE = Path(__file__).parent
DEFAULT_ASSETS = HERE.parent / "ide" / "node_modules"
PREFIX = "/graphiql/"

# what the page loads, in order: name under /graphiql/ -> file under node_modules
BUNDLES = {
    "react.js": "react/umd/react.production.min.js",
    "react-dom.js": "react-dom/umd/react-dom.production.min.js",
    "graphql-ws.js": "graphql-ws/umd/graphql-ws.min.js",
    "graphiql.js": "graphiql/graphiql.min.js",
    "graphiql.css": "graphiql/graphiql.min.css",
}
PAGE_SCRIPT = "ide.js"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>GraphiQL · App ownership graph</title>
<link rel="stylesheet" href="{stylesheet}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading…</div>
{scripts}
</body>
</html>
"""

MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL is not installed</title></head>
<body>
<h1>GraphiQL's files are not installed</h1>
<p>They come from npm packages (ide/package.json). Run <code>make ide</code> (or
<code>make run</code>, which does it), or set <code>GRAPHIQL_ASSETS</code> to a node_modules
folder that has them. The API itself works: POST your queries to this URL.</p>
</body></html>
"""


def assets() -> Path:
    return Path(os.environ.get("GRAPHIQL_ASSETS") or DEFAULT_ASSETS)


def installed() -> bool:
    folder = assets()
    return all((folder / path).is_file() for path in BUNDLES.values())


def page() -> Response:
    """The GraphiQL page, or a 503 saying how to install its files."""
    if not installed():
        return HTMLResponse(MISSING, status_code=503)
    folder = assets()
    # each bundle's URL names its file's version, so browsers may keep it (see asset())
    urls = {
        name: f"{PREFIX}{name}?v={(folder / path).stat().st_mtime_ns}"
        for name, path in BUNDLES.items()
    }
    scripts = "\n".join(
        f'<script src="{url}"></script>' for name, url in urls.items() if name.endswith(".js")
    )
    scripts += f'\n<script src="{PREFIX}{PAGE_SCRIPT}"></script>'
    html = PAGE.format(stylesheet=urls["graphiql.css"], scripts=scripts)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


async def asset(request: Request) -> Response:
    """GET /graphiql/{name}: one of the page's files (nothing else under node_modules)."""
    name = request.path_params["name"]
    if name == PAGE_SCRIPT:
        return FileResponse(HERE / PAGE_SCRIPT, headers={"Cache-Control": "no-cache"})
    relative = BUNDLES.get(name)
    path = assets() / relative if relative is not None else None
    if path is None or not path.is_file():
        return PlainTextResponse("Not Found", status_code=404)
    # the page links it with its version (?v=), so it may be kept for good
    return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})
