#!/usr/bin/env bash
# Install Debian's wrk (the HTTP load generator make bench prefers) when it is missing.
# Without it the benchmark falls back to its own Python client, and says so.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
echo "wrk is missing: installing Debian's wrk package"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq wrk >/dev/null
wrk --version 2>&1 | head -1 || true
