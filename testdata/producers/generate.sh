#!/usr/bin/env bash
# Regenerates every real-producer fixture: EMF from npm aws-embedded-metrics
# and @aws-lambda-powertools/metrics, DogStatsD from Go datadog-go and npm
# hot-shots. Needs go, node and npm (the npm registry).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/emf/generate.sh"
bash "$here/dogstatsd/generate.sh"
