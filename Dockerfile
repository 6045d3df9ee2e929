# syntax=docker/dockerfile:1
#
# One image for all five services. The container's command chooses the service:
#   uvicorn --factory <package>.main:create_app --host 0.0.0.0 --port <port> \
#     --timeout-graceful-shutdown 10
# (the default command runs the queue manager). Build from the repository root:
#   docker build -t livechat-routing .
# See deploy/README.md for compose and Kubernetes.

ARG PYTHON_IMAGE=python:3.11-slim

ARG NODE_IMAGE=node:20-slim

# --- web: the operator console and the visitor widget, built from the committed lockfile ----
# (only at build time: the image serves static files and fetches nothing at run time)
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY services/visitor-gateway/web/package.json services/visitor-gateway/web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY services/visitor-gateway/web/ ./
RUN npm run build

# --- build: resolve the committed lockfile into a self-contained virtualenv ----------------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# Byte-compile at build time (the runtime root filesystem is read-only), copy rather than
# hard-link out of the cache mount, and use the image's own interpreter, never a download.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Third-party dependencies first, from the workspace manifests and the lock only, so this
# layer is rebuilt when the lock changes and not on every source edit.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/visitor-gateway/pyproject.toml services/visitor-gateway/
COPY services/queue-manager/pyproject.toml services/queue-manager/
COPY services/session-service/pyproject.toml services/session-service/
COPY services/offline-messages/pyproject.toml services/offline-messages/
COPY services/summary-projector/pyproject.toml services/summary-projector/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace

# Then the workspace members, installed as wheels (not editable), so that the virtualenv
# alone is the application and the sources stay behind in this stage.
COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the virtualenv on a clean base, run as an unprivileged user -------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="livechat-routing" \
      org.opencontainers.image.description="Live-chat routing services (visitor-gateway, queue-manager, session-service, offline-messages, summary-projector)"

RUN groupadd --system --gid 10001 livechat \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin livechat

# Owned by root and not writable by the service user: nothing at run time writes here.
COPY --from=build /app/.venv /app/.venv
COPY --from=web /web/dist /app/web

ENV PATH="/app/.venv/bin:${PATH}" \
    VISITOR_GATEWAY_WEB_DIR=/app/web \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app
USER 10001:10001

# visitor-gateway 8001, queue-manager 8002, session-service 8003,
# offline-messages 8004, summary-projector 8005
EXPOSE 8001 8002 8003 8004 8005

# Docker's own health state (docker ps, docker run without compose): GET /healthz on the port
# the container's command serves (uvicorn's --port, read from PID 1's command line, so any of
# the five commands works). Python, because the slim base has no curl. Compose defines its
# own healthchecks (readiness, /readyz); Kubernetes ignores this and uses the probes.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; a = open('/proc/1/cmdline', 'rb').read().split(b'\\0'); p = a[a.index(b'--port') + 1].decode() if b'--port' in a else '8000'; u.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=2)"]

# --timeout-graceful-shutdown: on SIGTERM, open connections (SSE streams, WebSockets) get
# 10 s to finish instead of holding the shutdown; then the broker client drains for up to
# 10 s, so give the container 30 s to stop (docker stop -t 30; compose and the manifests do).
CMD ["uvicorn", "--factory", "queue_manager.main:create_app", "--host", "0.0.0.0", "--port", "8002", \
     "--timeout-graceful-shutdown", "10"]
