#!/usr/bin/env bash
# Check the Prometheus rules in deploy/monitoring with promtool: `check rules` (syntax, names,
# templates) and `test rules` (the unit tests in alerts.test.yaml: each alert fires and stays
# quiet when it should). What `make alerts-check` runs.
#
#   bash scripts/check-alerts.sh                 install promtool if missing, then check
#   bash scripts/check-alerts.sh --install-only  only make sure promtool is there
#   bash scripts/check-alerts.sh --no-install    check, or exit 77 if there is no promtool
#   bash scripts/check-alerts.sh --which         print the promtool it would use, or exit 77
#
# promtool comes from the Debian package `prometheus`. Only the promtool binary is taken out of
# it, into a cache outside the repository: installing the package itself would also install and
# start a Prometheus server. Environment: PROMTOOL (a promtool to use), LIVECHAT_CACHE_DIR
# (default ~/.cache/livechat-routing).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RULES="deploy/monitoring/alerts.yaml"
TESTS="deploy/monitoring/alerts.test.yaml"
CACHE_DIR="${LIVECHAT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/livechat-routing}"
CACHED="$CACHE_DIR/promtool/usr/bin/promtool"
SKIP=77 # "skipped", as automake's test drivers read it

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'check-alerts: %s\n' "$*" >&2; exit 1; }

find_promtool() {
    if [[ -n "${PROMTOOL:-}" ]]; then
        [[ -x "$PROMTOOL" ]] || die "PROMTOOL=$PROMTOOL is not executable"
    elif command -v promtool >/dev/null 2>&1; then
        PROMTOOL="$(command -v promtool)"
    elif [[ -x "$CACHED" ]]; then
        PROMTOOL="$CACHED"
    else
        return 1
    fi
}

install_promtool() {
    command -v apt-get >/dev/null 2>&1 ||
        die "promtool is missing and this is not Debian/Ubuntu: get it from https://prometheus.io/download/ and set PROMTOOL"
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "promtool is missing; apt-get update needs root or sudo"
        sudo=(sudo)
    fi
    log "installing promtool from the Debian package prometheus into ${CACHE_DIR}"
    "${sudo[@]}" apt-get update -qq >/dev/null
    local policy
    policy="$(apt-cache policy prometheus)"
    [[ "$policy" =~ Candidate:\ [0-9] ]] || die "no installable package 'prometheus' in the configured apt sources"
    local work
    work="$(mktemp -d)"
    # apt-get download fetches the .deb alone, no dependencies, no maintainer scripts.
    if ! (cd "$work" && apt-get download -qq prometheus >"$work/apt.log" 2>&1); then
        cat "$work/apt.log" >&2
        rm -rf "$work"
        die "apt-get download prometheus failed"
    fi
    rm -rf "$CACHE_DIR/promtool"
    mkdir -p "$CACHE_DIR/promtool"
    dpkg-deb -x "$work"/prometheus_*.deb "$work/extracted"
    install -D -m 0755 "$work/extracted/usr/bin/promtool" "$CACHED"
    rm -rf "$work"
    PROMTOOL="$CACHED"
}

mode="${1:-check}"
case "$mode" in
check | --install-only) find_promtool || install_promtool ;;
--no-install | --which) find_promtool || { echo "promtool is not installed (bash scripts/check-alerts.sh --install-only)" >&2; exit "$SKIP"; } ;;
*) die "unknown option $mode (use --install-only, --no-install or --which)" ;;
esac
if [[ "$mode" == "--which" ]]; then
    echo "$PROMTOOL"
    exit 0
fi
"$PROMTOOL" --version 2>&1 | head -n 1 >&2
[[ "$mode" == "--install-only" ]] && exit 0

cd "$REPO_ROOT"
log "promtool check rules $RULES"
"$PROMTOOL" check rules "$RULES"
log "promtool test rules $TESTS"
"$PROMTOOL" test rules "$TESTS"
