#!/usr/bin/env bash
# make demo: runs the shipped Go example function 40 times at concurrency 4,
# then says what to do next and keeps /metrics (and the invoke API) up until
# Ctrl-C, when lambdabridge writes the metric catalog and its summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/lambdabridge
catalog=bin/demo-catalog.json
log=bin/demo.log
api=${LAMBDABRIDGE_DEMO_API:-127.0.0.1:9001}
listen=127.0.0.1:9464 # run's default /metrics address

"$bin" run --template examples/template.yaml --function GoEmf \
  --invocations 40 --concurrency 4 --event-template apigateway \
  --serve --api "$api" --catalog "$catalog" 2> >(tee "$log" >&2) &
pid=$!
# Ctrl-C reaches lambdabridge too; this script waits for its summary.
trap '' INT

# run says it serves once the 40 invocations are done.
until grep -q 'serving until interrupted' "$log" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    exit
  fi
  sleep 0.2
done

cat >&2 <<NEXT

== lambdabridge demo: the 40 invocations are done. What next ==
  The metrics, as Prometheus scrapes them (up until Ctrl-C):
    open http://$listen/metrics      (or: curl -s http://$listen/metrics)
  Send them to a Prometheus (started with --web.enable-remote-write-receiver):
    $bin run --template examples/template.yaml --function GoEmf --invocations 40 --remote-write http://127.0.0.1:9090/api/v1/write
  More invocations while it serves:
    curl -d '{}' http://$api/2015-03-31/functions/GoEmf/invocations
  A Grafana dashboard of these metrics (Ctrl-C first: it writes $catalog):
    $bin dashboard --catalog $catalog -o bin/demo-dashboard.json
Press Ctrl-C to stop.

NEXT
status=0
wait "$pid" || status=$?
# 130: ended by Ctrl-C, which is how the demo ends.
if [ "$status" = 130 ]; then status=0; fi
exit "$status"
