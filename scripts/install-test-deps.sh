#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real
# backends the integration tests start (Prometheus with promtool,
# VictoriaMetrics, Pushgateway), curl for the shell custom runtime, and
# Chromium for the report screenshot tests. Idempotent: installs only what is
# missing. Needs root (or sudo) for apt-get.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have prometheus || need+=(prometheus)
have promtool || need+=(prometheus)
have victoria-metrics || have victoria-metrics-prod || [ -x /usr/bin/victoria-metrics ] || need+=(victoria-metrics)
have prometheus-pushgateway || need+=(prometheus-pushgateway)
have curl || need+=(curl)
# Chromium opens the compare report (compare/html_test.go screenshot test).
have chromium || [ -x /usr/bin/chromium ] || need+=(chromium)
have node || need+=(nodejs)
have npm || need+=(npm)
# npm's aws-lambda-ric (the Node runtime interface client the runner is
# tested with) compiles native code: it needs a C++ toolchain and autotools.
# node-gyp builds it against the Node headers on this machine (the Makefile
# sets npm_config_nodedir=/usr), never downloading them: Debian's libnode-dev
# ships them when the nodejs package does not.
[ -f /usr/include/node/common.gypi ] || need+=(libnode-dev)
for tool in cmake autoconf automake libtool g++ make; do
  pkg=$tool
  [ "$tool" = libtool ] && { command -v libtoolize >/dev/null 2>&1 || need+=(libtool); continue; }
  have "$tool" || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "test dependencies present: prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}'), pushgateway, victoria-metrics, curl, chromium, node $(node --version)"
# Prometheus 3 (Remote Write 2.0) and Thanos Receive: built from the Go
# module proxy once, cached under ~/.cache/lambdabridge.
"$(dirname "$0")/build-go-backends.sh"
