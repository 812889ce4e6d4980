"""`o2c serve [--host] [--port]` — the HTTP server (uvicorn)."""

from __future__ import annotations

import argparse

from engine.config import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the API server")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = load_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"o2c-engine serving on http://{host}:{port}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    return 0
