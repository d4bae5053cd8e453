# Liuzhi production image.
#
# All configuration comes from LIUZHI_* environment variables; nothing is
# baked into the image:
#   LIUZHI_DATABASE_URL          SQLAlchemy async URL the app uses at run time,
#                                e.g. postgresql+asyncpg://liuzhi:PW@db:5432/liuzhi
#   LIUZHI_MIGRATE_DATABASE_URL  URL `liuzhi db upgrade` uses: a role allowed to
#                                run DDL, separate from the app's runtime role
#   LIUZHI_REDIS_URL             e.g. redis://redis:6379/0
#   LIUZHI_SECRET_KEY            long random secret; never commit or bake it in
#   LIUZHI_BASE_DOMAIN           e.g. liuzhi.example.org; tenants live on its subdomains
#   LIUZHI_WORKERS               uvicorn worker processes (default 1; more need LIUZHI_REDIS_URL)
#   LIUZHI_METRICS_TOKEN         bearer token for /metrics (else only loopback may scrape)
#   LIUZHI_TRUSTED_PROXIES       the reverse proxy's address(es)
# compose.yaml runs this image as app (several workers), jobs, migrate and backup.
# Set by this image (override only if you know why):
#   LIUZHI_VENDOR_DIR=/app/node_modules  front-end assets from package-lock.json
#   LIUZHI_DATA_DIR=/data                uploads and other mutable state (a volume)
#   LIUZHI_TENANTS_DIR=/app/tenants      tenant definitions shipped with the image
#
# Build: docker build -t liuzhi .
# Run:   docker run -p 8000:8000 -v liuzhi-data:/data -e LIUZHI_DATABASE_URL=... liuzhi

# --- front-end assets: pinned by package-lock.json, no build step, just files
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- application
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LIUZHI_VENDOR_DIR=/app/node_modules \
    LIUZHI_DATA_DIR=/data \
    LIUZHI_TENANTS_DIR=/app/tenants \
    LIUZHI_LOG_FORMAT=json

WORKDIR /app
COPY . /app
COPY --from=assets /build/node_modules /app/node_modules

# Installed in place (editable): the shared templates/, tenants/ and the translation
# catalogues are read from the source tree at /app, which is exactly what runs.
# postgresql-client: pg_dump/pg_restore for `liuzhi backup` (bookworm's 15 matches the compose database).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir -e . \
 && mkdir -p /app/tenants

# Non-root runtime user; /data is created and chowned before VOLUME so a fresh
# named volume inherits the ownership.
RUN groupadd --gid 10001 liuzhi \
 && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home \
            --shell /usr/sbin/nologin liuzhi \
 && mkdir -p /data \
 && chown liuzhi:liuzhi /data
VOLUME ["/data"]
USER liuzhi

EXPOSE 8000

# urllib raises on connection errors and on non-2xx answers, so any failure
# gives a non-zero exit. No curl in the slim image, and none needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Migrations first (idempotent), then replace the shell with the server so it
# receives SIGTERM directly from `docker stop`.
CMD ["sh", "-c", "liuzhi db upgrade && exec liuzhi serve --host 0.0.0.0 --port 8000 --workers ${LIUZHI_WORKERS:-1}"]
