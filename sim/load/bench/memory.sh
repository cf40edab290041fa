#!/usr/bin/env bash
# memory.sh — the resident memory of a long open-loop hooklab load run.
#
# Runs "hooklab load --rate R --duration D" (the github/pull_request body,
# or --body-fixture NAME's, rendered once and signed for every request;
# --out and --plot unset) and samples the load
# process's VmRSS every S seconds, printing the series and the run's
# figures. Without --sink the target is the minimal one
# (sim/load/bench/target). With --sink the target is hooklab's reference
# ingress (hooklab serve --spec) with one endpoint whose trigger delivers
# every accepted request to hooklab load's sink, so delivery tracking is
# measured too; the ingress's RSS is printed beside it. --delay D makes
# the minimal target wait D before answering, so that up to
# --max-in-flight requests (and connections) are held at once: the worst
# case for memory.
#
# Usage: sim/load/bench/memory.sh [--rate R] [--duration D] [--every S]
#                                 [--sink | --delay D] [--body-fixture NAME]
#                                 [--hooklab BIN] [--keep]
# Defaults: --rate 2000 --duration 10m --every 10 (seconds).
# See sim/load/bench/README.md for measured figures.
set -euo pipefail

RATE=2000
DUR=10m
EVERY=10
SINK=0
KEEP=0
HOOKLAB_BIN=
BODY_FIXTURE=github/pull_request
DELAY=0s
SECRET=${BENCH_SECRET:-bench-secret}

usage() {
	sed -n '/^# Usage:/,/^# See/p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) RATE=$2; shift 2 ;;
	--duration) DUR=$2; shift 2 ;;
	--every) EVERY=$2; shift 2 ;;
	--sink) SINK=1; shift ;;
	--body-fixture) BODY_FIXTURE=$2; shift 2 ;;
	--delay) DELAY=$2; shift 2 ;;
	--hooklab) HOOKLAB_BIN=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "memory.sh: unknown argument $1" >&2; usage ;;
	esac
done
command -v jq >/dev/null || { echo "memory.sh: needs jq" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hooklab-memory.XXXXXX")
pids=()
# shellcheck disable=SC2317 # cleanup runs from the trap
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	if [ "$KEEP" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

if [ -n "$HOOKLAB_BIN" ]; then cp "$HOOKLAB_BIN" "$TMP/hooklab"; else (cd "$repo" && go build -o "$TMP/hooklab" ./cmd/hooklab); fi
(cd "$repo" && go build -o "$TMP/target" ./sim/load/bench/target)
hooklab=$TMP/hooklab

# start NAME CMD…: runs CMD in the background with stdout to NAME.out and
# waits until it prints a URL, which it stores in the variable started.
started=
start() {
	local name=$1; shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pids+=($!)
	echo $! >"$TMP/$name.pid"
	for _ in $(seq 200); do
		grep -q 'http://[0-9.:]*' "$TMP/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	started=$(grep -o -m1 'http://[0-9.:]*' "$TMP/$name.out") || { echo "memory.sh: $name did not start" >&2; cat "$TMP/$name.err" >&2; exit 1; }
}

start target "$TMP/target" -addr 127.0.0.1:0 -delay "$DELAY"
base=$started
url=$base/hooks/github
"$hooklab" sign --fixture "$BODY_FIXTURE" --seed 1 --secret "$SECRET" --url "$url" --format json | jq -j .body >"$TMP/body.json"
sinkargs=()
ingress_pid=
if [ "$SINK" = 1 ]; then
	# A free port for the sink: the one the kernel gave the target.
	sink=${base#http://}
	kill "$(cat "$TMP/target.pid")"
	wait "$(cat "$TMP/target.pid")" 2>/dev/null || true
	jq -n --arg s "$SECRET" --arg d "http://$sink/" \
		'{endpoints: [{id: "bench", verify: {preset: "github", secret: $s}, triggers: [{id: "all", deliver: $d}]}]}' >"$TMP/spec.json"
	start ingress "$hooklab" serve --spec "$TMP/spec.json" --addr 127.0.0.1:0
	url=$started/hooks/bench
	ingress_pid=$(cat "$TMP/ingress.pid")
	sinkargs=(--sink "$sink")
fi

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$DELAY" != 0s ] && echo "# the target answers after $DELAY"
echo "# hooklab load --to $url --preset github --body-file ($BODY_FIXTURE, $(wc -c <"$TMP/body.json") bytes) --rate $RATE --duration $DUR ${sinkargs[*]} --json"
"$hooklab" load --to "$url" --preset github --body-file "$TMP/body.json" --header "X-GitHub-Event: ${BODY_FIXTURE#*/}" \
	--secret "$SECRET" --rate "$RATE" --duration "$DUR" "${sinkargs[@]}" --json >"$TMP/report.json" 2>"$TMP/load.err" &
load_pid=$!
pids+=("$load_pid")
t0=$(date +%s)
if [ -n "$ingress_pid" ]; then echo "  elapsed_s  load_rss_kib  ingress_rss_kib"; else echo "  elapsed_s  load_rss_kib"; fi
while kill -0 "$load_pid" 2>/dev/null; do
	sleep "$EVERY"
	kill -0 "$load_pid" 2>/dev/null || break
	r=$(rss "$load_pid")
	if [ -n "$ingress_pid" ]; then
		printf '  %9d  %12s  %15s\n' $(($(date +%s) - t0)) "$r" "$(rss "$ingress_pid")"
	else
		printf '  %9d  %12s\n' $(($(date +%s) - t0)) "$r"
	fi
done
rc=0
wait "$load_pid" || rc=$?
echo "# hooklab load exit $rc; load average $(cut -d' ' -f1-3 /proc/loadavg)"
jq -c '{requests, success, rate_requested, rate_achieved, dropped, errors, status_codes,
	latency_ms: (.latency_ms | {p50, p99, max}), delivery_ms: (.delivery_ms // null | if . then {p50, p99, max} else null end),
	delivered, lost, duplicated}' "$TMP/report.json"
[ -s "$TMP/load.err" ] && { echo "# stderr:"; head -5 "$TMP/load.err"; }
exit 0
