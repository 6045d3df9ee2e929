#!/usr/bin/env bash
# Chromium for the browser tests: Debian's package (Playwright's own browser download cannot
# work here). Installs it with apt-get when missing; does nothing when it is there.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi
echo "installing chromium (apt-get) for the browser tests"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "chromium is missing and neither root nor sudo is available: apt-get install chromium" >&2; exit 1; }
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
[[ -x "$CHROMIUM" ]] || { echo "chromium was installed but $CHROMIUM is missing" >&2; exit 1; }
