#!/usr/bin/env bash
# The Dockerfile's Python stages without a Docker engine (part of `make deploy-check`): copy
# what the build stage copies (the workspace manifests, the lock, shared/ and services/), run
# its two `uv sync` steps into a virtualenv outside the repository, then, from another
# directory, import every service's app factory the containers start and check that no
# development package came along. Catches a runtime dependency declared only for development,
# a module left out of a package, or a lock that no longer resolves without the dev group.
# The web stage is `npm ci && npm run build`, which `make web` runs on every `make test`.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
UV="${UV:-uv}"

mkdir -p "$WORK/src"
cp "$REPO_ROOT/pyproject.toml" "$REPO_ROOT/uv.lock" "$WORK/src/"
# shared/ and services/ as the build context has them (.dockerignore: no node_modules, no dist)
tar -C "$REPO_ROOT" --exclude='node_modules' --exclude='web/dist' --exclude='__pycache__' \
    --exclude='.data' -cf - shared services | tar -C "$WORK/src" -xf -

export UV_PROJECT_ENVIRONMENT="$WORK/venv" UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
(cd "$WORK/src" && "$UV" sync --frozen --no-dev --no-install-workspace --quiet)
(cd "$WORK/src" && "$UV" sync --frozen --no-dev --no-editable --quiet)
rm -rf "$WORK/src"  # as in the runtime stage: the virtualenv alone is the application

cd "$WORK"
"$WORK/venv/bin/python" - <<'PY'
import importlib
import importlib.util
import sys

SERVICES = ("visitor_gateway", "queue_manager", "session_service", "offline_messages",
            "summary_projector")
failed = []
for package in SERVICES:
    try:
        module = importlib.import_module(f"{package}.main")
        if not callable(getattr(module, "create_app", None)):
            failed.append(f"{package}.main has no create_app")
    except Exception as error:  # noqa: BLE001 - report every service, then fail
        failed.append(f"{package}.main: {type(error).__name__}: {error}")
for dev_only in ("pytest", "hypothesis", "testcontainers", "mypy", "ruff"):
    if importlib.util.find_spec(dev_only) is not None:
        failed.append(f"{dev_only} is in the image's virtualenv (a development package)")
if importlib.util.find_spec("uvicorn") is None:
    failed.append("uvicorn (the containers' command) is not installed")
if failed:
    print("image steps: FAILED", *failed, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"image steps: OK ({len(SERVICES)} app factories import from the image's virtualenv)")
PY
