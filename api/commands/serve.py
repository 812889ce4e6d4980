"""`o2c serve [--host] [--port] [--no-scheduler]` — the HTTP server (uvicorn).

By default one box does everything: besides the API it runs the leader-leased scheduler (daily
cycle at `O2C_CYCLE_AT`, timers every `O2C_TICK_SECONDS`) and reloads the strategies when a file
changes or on SIGHUP. API-only replicas pass `--no-scheduler` (or set `O2C_SCHEDULER=0`) and leave
the scheduler to `o2c worker` or one serving box."""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

from engine.config import Settings, load_settings, positive, switched_on, time_of_day

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

    return Background(
        scheduler=not no_scheduler and switched_on(settings.extra, "O2C_SCHEDULER"),
        hot_reload=True,
        cycle_at=time_of_day(settings.extra, "O2C_CYCLE_AT", "06:00"),
        tick_seconds=positive(settings.extra, "O2C_TICK_SECONDS", 5.0),
        lease_seconds=positive(settings.extra, "O2C_LEASE_SECONDS", 30.0),
        poll_seconds=positive(settings.extra, "O2C_STRATEGIES_POLL_SECONDS", 2.0),
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.body_limit import max_body_bytes
    from engine.keys import ensure_demo_admin_key

    settings = load_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    background = background_for(settings, args.no_scheduler)
    if not args.verbose:  # APScheduler logs every tick at INFO; our jobs log what they do
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    app = create_app(settings, background=background)
    if os.environ.get("O2C_DEMO_KEY") == "1":
        key = ensure_demo_admin_key(app.state.ctx)
        if key:
            print("demo admin key (send as 'Authorization: Bearer KEY'):")
            print(key, flush=True)
    scheduler = (
        f"scheduler on (cycle at {background.cycle_at.isoformat('minutes')})"
        if background.scheduler
        else "scheduler off"
    )
    print(f"o2c-engine serving on http://{host}:{port} (GraphQL and GraphiQL at /graphql; {scheduler})", flush=True)
    # WebSocket messages obey the same limit as HTTP bodies (uvicorn closes the socket with 1009).
    uvicorn.run(app, host=host, port=port, log_level="info", ws_max_size=max_body_bytes(settings.extra))
    return 0
