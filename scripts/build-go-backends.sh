#!/usr/bin/env bash
# Builds the backends that Debian does not ship, from the Go module proxy,
# once, into ~/.cache/lambdabridge/<name>-<version>/ (as the Node runtime
# client is cached): Prometheus 3 (v0.316.0 is Prometheus 3.16, the Remote
# Write 2.0 receiver) and Thanos v0.40.1 (Receive as a hashring). The
# remotewrite integration tests use them and skip, naming this script, when
# they are missing. About 4.5 min and 9 min on 2 loaded cores. Idempotent.
# Usage: scripts/build-go-backends.sh [prometheus|thanos]...
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/lambdabridge"
PROMETHEUS_VERSION=v0.316.0
THANOS_VERSION=v0.40.1

build_prometheus() {
  local dir="$cache/prometheus-$PROMETHEUS_VERSION"
  [ -x "$dir/prometheus" ] && return
  mkdir -p "$dir"
  echo "building prometheus $PROMETHEUS_VERSION into $dir (about 4.5 min)"
  GOBIN="$dir/bin.tmp" go install "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION"
  mv "$dir/bin.tmp/prometheus" "$dir/prometheus"
  rmdir "$dir/bin.tmp"
}

build_thanos() {
  local dir="$cache/thanos-$THANOS_VERSION"
  [ -x "$dir/thanos" ] && return
  mkdir -p "$dir"
  echo "building thanos $THANOS_VERSION into $dir (2.5 to 9 min)"
  # go install refuses Thanos (replace directives in its go.mod): build
  # the module's own tree; without slicelabels Receive panics on a write.
  local src
  src=$(go mod download -json "github.com/thanos-io/thanos@$THANOS_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$dir/src"
  cp -r "$src" "$dir/src"
  chmod -R u+w "$dir/src"
  (cd "$dir/src" && go build -tags slicelabels -o ../thanos.tmp ./cmd/thanos)
  mv "$dir/thanos.tmp" "$dir/thanos"
  rm -rf "$dir/src"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(prometheus thanos)
for t in "${targets[@]}"; do
  "build_$t"
done
