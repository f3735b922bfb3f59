#!/usr/bin/env bash
# Regenerates the DogStatsD fixtures from the real client libraries:
#   datadog-go.datagrams  Go github.com/DataDog/datadog-go/v5/statsd (version from go.mod)
#   hot-shots.datagrams   npm hot-shots (version from package-lock.json)
# Each producer listens on a free loopback UDP port, sends every message kind
# through its client and records the datagrams it receives. Needs go, node, npm.
# After regenerating, run: go test ./dogstatsd/ -run TestProducerFixtures
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

(cd "$root" && go run ./testdata/producers/dogstatsd/datadog-go -o "$here/datadog-go.datagrams")
echo "wrote $here/datadog-go.datagrams"

cd "$here"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
node hot-shots.js hot-shots.datagrams
echo "wrote $here/hot-shots.datagrams"
