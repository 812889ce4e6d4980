"""Process entry points: the CLI, the Starlette app, health and metrics."""
