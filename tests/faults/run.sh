#!/usr/bin/env bash
# Fault-injection suite: the real `collector` against children, sinks, brokers, signals and limits that fail.
set -uo pipefail
cd "$(dirname "$0")"
SUITE=faults
# shellcheck source=../integration/lib.sh
. ../integration/lib.sh

command -v jq >/dev/null || { echo "faults: jq is required (make deps)"; exit 1; }

# FAULT_SEEDS: the seeds of the random signal delays (reproduce a failure with its seed).
FAULT_SEEDS=${FAULT_SEEDS:-"11 23 37"}
SIM=$BUILD/tools/algo-sim/algo_sim
GEN=$BUILD/tools/bench/gen
# An ASan build reserves terabytes of address space: an address-space limit cannot apply.
# Not `ldd | grep -q`: grep leaving early can kill ldd with SIGPIPE, which pipefail makes a miss.
ASAN_BUILD=0
[[ "$(ldd "$C" 2>/dev/null)" == *libasan* ]] && ASAN_BUILD=1

run_cases "$@"

summary
