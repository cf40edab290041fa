#!/bin/sh
# Compares how two builds of `hooklab serve` deliver: peak RSS, connections,
# and deliveries processed once/twice/never, under three sinks (see main.go).
#
#   sim/testdata/scripts/deliveries/run.sh [BASE_REF] [N] [C] [TRIGGERS]
#
# BASE_REF (default main) is built from `git archive`, the worktree as is;
# both run on this machine, one after the other, with the same seed.
set -eu
base=${1:-main}; n=${2:-2000}; c=${3:-500}; triggers=${4:-10}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base"
git -C "$root" archive "$base" | tar -x -C "$tmp/base"
(cd "$tmp/base" && go build -o "$tmp/hooklab-base" ./cmd/hooklab)
(cd "$root" && go build -o "$tmp/hooklab-head" ./cmd/hooklab && go build -o "$tmp/measure" ./sim/testdata/scripts/deliveries)
for sink in ok slow fail; do
	for build in base head; do
		printf '%s\t' "$build"
		"$tmp/measure" -hooklab "$tmp/hooklab-$build" -sink "$sink" -n "$n" -c "$c" -triggers "$triggers"
	done
done
