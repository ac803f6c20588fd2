#!/usr/bin/env bash
# Integration suite: the real `collector` binary against real children and sinks.
set -uo pipefail
cd "$(dirname "$0")"
. ./lib.sh

command -v jq >/dev/null || { echo "integration: jq is required (make deps)"; exit 1; }

# Arguments, if any, are substrings of case file names to run (e.g. `82_kafka`).
for t in cases/*.sh; do
	if [ $# -gt 0 ]; then
		want=0
		for pat in "$@"; do
			case "$t" in *"$pat"*) want=1 ;; esac
		done
		[ "$want" = 1 ] || continue
	fi
	# shellcheck source=/dev/null
	. "$t"
done

summary
