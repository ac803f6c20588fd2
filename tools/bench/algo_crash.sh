#!/usr/bin/env bash
# Crash -> algorithm.crash latency of the algorithm runner over CRASHES (default 1000) SIGKILLs.
set -euo pipefail
BUILD=${BUILD:?BUILD must name the build directory}
CRASHES=${CRASHES:-1000}
work=$(mktemp -d /tmp/collector-algo-crash.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The reports go to the scratch directory, not the machine's state directory.
export COLLECTOR_STATE_DIR="$work/state"
mkdir -p "$work/pkg"
cat >"$work/pkg/manifest.json" <<JSON
{"name":"crash-bench","version":"1.0.0","protocol":1,
 "entry_point":["$BUILD/tools/algo-sim/algo_sim"],
 "limits":{"call_timeout_ms":5000,"grace_ms":300}}
JSON
echo "crash -> algorithm.crash event latency over $CRASHES SIGKILLed children (target p99 <= 5 ms):"
"$BUILD/tools/bench/algo_crash" "$BUILD/collector" "$work/pkg" "$CRASHES"
