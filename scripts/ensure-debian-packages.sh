#!/usr/bin/env bash
# Install the named Debian packages whose command is missing, with one apt-get update for all:
#   chromium  the admin's browser tests (Playwright drives it; its own download cannot reach its CDN here)
#   wrk       the HTTP load generator make bench prefers (without it, its Python client runs)
#   promtool  (package prometheus) checks deploy/prometheus's configuration and alert rules
# Usage: scripts/ensure-debian-packages.sh chromium wrk promtool:prometheus
#   (COMMAND:PACKAGE when the command is not named after its package)
set -euo pipefail

missing=()
for wanted in "$@"; do
  command="${wanted%%:*}"
  package="${wanted#*:}"
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
