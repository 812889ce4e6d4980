# syntax=docker/dockerfile:1
# One image for every process: `o2c serve` (API), `o2c worker` (scheduler + webhook dispatcher),
# `o2c db upgrade` (one-shot), and the example webhook receiver. See docker-compose.yml.

# Build stage: durable-rules ships as source only and needs a C compiler.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies exactly as requirements.lock pins them (hashes checked), then the project alone.
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements.lock
COPY pyproject.toml README.md ./
COPY engine engine
COPY schema schema
COPY states states
COPY api api
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Runtime stage: no compiler, only the wheels; runs as an unprivileged user.
FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 o2c
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --no-deps /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY strategies strategies
COPY policy policy
COPY examples examples
# Single box (the default command): SQLite under /app/data; mount a volume there to keep it.
RUN mkdir -p /app/data && chown o2c /app/data
VOLUME ["/app/data"]
USER o2c
ENV PYTHONUNBUFFERED=1 \
    O2C_HOST=0.0.0.0 \
    O2C_PORT=8000 \
    O2C_STRATEGIES_DIR=/app/strategies
EXPOSE 8000
# For `o2c serve`; docker-compose.yml sets its own check per service (workers have no HTTP port).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
# `exec` makes `o2c serve` PID 1, so `docker stop` (SIGTERM) reaches it and it shuts down cleanly.
CMD ["sh", "-c", "o2c db upgrade && exec o2c serve"]
