#!/usr/bin/env bash
# Soak load: fork/exec churn for the process runner and TLS exchanges for the ssl runner.
#
#   load.sh WORK TLS   (TLS: a link to python3 whose name the ssl runner filters on;
#                       WORK holds cert.pem and key.pem)
#
# Every 0.2 s it runs /bin/true; every 10th round it runs 10 keep-alive HTTPS exchanges
# (tools/bench/tls_exchanges.py) through TLS. On SIGTERM it writes its counts to
# WORK/load.counts and exits.
set -u
WORK=$1
TLS=$2
EXCHANGES=${SOAK_TLS_EXCHANGES:-10}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rounds=0
tls_runs=0
tls_failed=0
stop=0
trap 'stop=1' TERM INT

while [ $stop -eq 0 ]; do
	/bin/true
	rounds=$((rounds + 1))
	if [ $((rounds % 10)) -eq 0 ]; then
		if "$TLS" "$HERE/../tls_exchanges.py" "$EXCHANGES" "$WORK/cert.pem" \
			"$WORK/key.pem" >/dev/null 2>&1; then
			tls_runs=$((tls_runs + 1))
		else
			tls_failed=$((tls_failed + 1))
		fi
	fi
	sleep 0.2
done
echo "rounds=$rounds tls_runs=$tls_runs tls_failed=$tls_failed exchanges=$((tls_runs * EXCHANGES))" \
	>"$WORK/load.counts"
