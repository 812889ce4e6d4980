"""`o2c serve [--host] [--port] [--no-scheduler]` — the HTTP server (uvicorn).

By default one box does everything: besides the API it runs the leader-leased scheduler (daily
cycle at `O2C_CYCLE_AT`, timers every `O2C_TICK_SECONDS`), the webhook dispatcher
(`O2C_SERVE_DISPATCH=0` turns it off) and reloads the strategies when a file changes or on SIGHUP.
API-only replicas pass `--no-scheduler` (no background work at all) and leave the scheduler and
webhooks to `o2c worker`."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from engine.config import Settings, load_settings

if TYPE_CHECKING:
    from api.app import Background


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the API server (and, unless --no-scheduler, the scheduler)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="API only: do not run the daily cycle and timers in this process (O2C_SCHEDULER=0)",
    )
    p.set_defaults(run=_serve)


def background_for(settings: Settings, no_scheduler: bool = False) -> Background:
    """What runs beside the API, from `O2C_*` settings; a bad value fails before anything starts."""
    from api.app import Background

    # `--no-scheduler` (O2C_SCHEDULER=0) means no background work at all (API replicas);
    # O2C_SERVE_DISPATCH=0 keeps the scheduler but leaves webhooks to `o2c worker` / `o2c dispatch`.
    background = not no_scheduler and settings.scheduler
    return Background(
        scheduler=background,
        dispatch=background and settings.serve_dispatch,
        dispatch_idle_seconds=settings.dispatch_idle,
        hot_reload=True,
        cycle_at=settings.cycle_at,
        tick_seconds=settings.tick_seconds,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.strategies_poll_seconds,
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.logs import json_logs
    from engine.keys import ensure_demo_admin_key

    settings = load_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    background = background_for(settings, args.no_scheduler)
    if not args.verbose:  # APScheduler logs every tick at INFO; our jobs log what they do
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    app = create_app(settings, background=background)
    if settings.demo_key:
        key = ensure_demo_admin_key(app.state.ctx)
        if key:
            print("demo admin key (send as 'Authorization: Bearer KEY'):")
            print(key, flush=True)
    scheduler = (
        f"scheduler on (cycle at {background.cycle_at.isoformat('minutes')})"
        if background.scheduler
        else "scheduler off"
    ) + (", webhook dispatcher on" if background.dispatch else ", webhook dispatcher off")
    print(f"o2c-engine serving on http://{host}:{port} (GraphQL and GraphiQL at /graphql; {scheduler})", flush=True)
    # JSON logs: uvicorn's own loggers go through the root handler (one JSON line each, access log included).
    log_config = None if json_logs(settings.log_format) else uvicorn.config.LOGGING_CONFIG
    # WebSocket messages obey the same limit as HTTP bodies (uvicorn closes the socket with 1009).
    ws_max = settings.max_body_bytes
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config, ws_max_size=ws_max)
    return 0
