# syntax=docker/dockerfile:1
# Build stage: durable-rules ships as source only and needs a C compiler.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine engine
COPY schema schema
COPY states states
COPY api api
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: no compiler, only the wheels.
FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 o2c
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY strategies strategies
RUN mkdir -p /app/data && chown o2c /app/data
USER o2c
ENV O2C_HOST=0.0.0.0 \
    O2C_PORT=8000 \
    O2C_STRATEGIES_DIR=/app/strategies
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["sh", "-c", "o2c db upgrade && o2c serve"]
