"""`o2c serve [--host] [--port]` — the HTTP server (uvicorn)."""

from __future__ import annotations

import argparse
import os

from engine.config import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the API server")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from engine.keys import ensure_demo_admin_key

    settings = load_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    app = create_app(settings)
    if os.environ.get("O2C_DEMO_KEY") == "1":
        key = ensure_demo_admin_key(app.state.ctx)
        if key:
            print("demo admin key (send as 'Authorization: Bearer KEY'):")
            print(key, flush=True)
    print(f"o2c-engine serving on http://{host}:{port} (GraphQL and GraphiQL at /graphql)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0
