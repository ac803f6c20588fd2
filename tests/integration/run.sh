#!/usr/bin/env bash
# Integration suite: the real `collector` binary against real children and sinks.
set -uo pipefail
cd "$(dirname "$0")"
. ./lib.sh

command -v jq >/dev/null || { echo "integration: jq is required (make deps)"; exit 1; }

run_cases "$@"

summary
