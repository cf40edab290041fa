#!/usr/bin/env bash
# maxrate.sh — the highest open-loop rate hooklab load holds on this
# machine.
#
# Runs "hooklab load --rate R --duration D" against the minimal target
# (sim/load/bench/target) for R = FROM, FROM+STEP, … up to TO, with the
# github/pull_request body (or --body-fixture NAME's) signed for every
# request, and prints for each rate what was achieved, the dropped slots
# and the latency percentiles. A rate is held when rate_achieved is within
# 1% of rate_requested, nothing was dropped, every answer was 2xx, and the
# requests were really sent in time: "span/s", requests over the time from
# the first slot to the last answer (raw.metrics first..end), is within 1%
# of the rate too. (rate_achieved counts the schedule's slots, so a sender
# that falls behind without dropping still reports the requested rate.) It
# stops after the first rate not held (unless --all) and prints the
# highest rate held, with its latency.
#
# Usage: sim/load/bench/maxrate.sh [--from R] [--step R] [--to R]
#                                  [--duration D] [--max-in-flight N]
#                                  [--body-fixture NAME] [--all]
#                                  [--hooklab BIN] [--keep]
# Defaults: --from 2000 --step 2000 --to 40000 --duration 30s, hooklab's
# default --max-in-flight.
# See sim/load/bench/README.md for measured figures.
set -euo pipefail

FROM=2000
STEP=2000
TO=40000
DUR=30s
MIF=
ALL=0
KEEP=0
HOOKLAB_BIN=
BODY_FIXTURE=github/pull_request
SECRET=${BENCH_SECRET:-bench-secret}

usage() {
	sed -n '/^# Usage:/,/^# See/p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}
while [ $# -gt 0 ]; do
	case "$1" in
	--from) FROM=$2; shift 2 ;;
	--step) STEP=$2; shift 2 ;;
	--to) TO=$2; shift 2 ;;
	--duration) DUR=$2; shift 2 ;;
	--max-in-flight) MIF=$2; shift 2 ;;
	--body-fixture) BODY_FIXTURE=$2; shift 2 ;;
	--all) ALL=1; shift ;;
	--hooklab) HOOKLAB_BIN=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "maxrate.sh: unknown argument $1" >&2; usage ;;
	esac
done
case "$FROM$STEP$TO" in *[!0-9]*) echo "maxrate.sh: --from, --step and --to take whole numbers" >&2; exit 2 ;; esac
command -v jq >/dev/null || { echo "maxrate.sh: needs jq" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hooklab-maxrate.XXXXXX")
target_pid=
cleanup() {
	if [ -n "$target_pid" ]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
	if [ "$KEEP" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

if [ -n "$HOOKLAB_BIN" ]; then cp "$HOOKLAB_BIN" "$TMP/hooklab"; else (cd "$repo" && go build -o "$TMP/hooklab" ./cmd/hooklab); fi
(cd "$repo" && go build -o "$TMP/target" ./sim/load/bench/target)
hooklab=$TMP/hooklab

"$TMP/target" -addr 127.0.0.1:0 >"$TMP/target.url" 2>"$TMP/target.err" &
target_pid=$!
for _ in $(seq 100); do [ -s "$TMP/target.url" ] && break; sleep 0.05; done
[ -s "$TMP/target.url" ] || { echo "maxrate.sh: the target did not start:" >&2; cat "$TMP/target.err" >&2; exit 1; }
url=$(head -1 "$TMP/target.url")/hooks/github
"$hooklab" sign --fixture "$BODY_FIXTURE" --seed 1 --secret "$SECRET" --url "$url" --format json | jq -j .body >"$TMP/body.json"
mif=()
[ -n "$MIF" ] && mif=(--max-in-flight "$MIF")

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# hooklab load --preset github --body-file ($BODY_FIXTURE, $(wc -c <"$TMP/body.json") bytes) --rate R --duration $DUR ${mif[*]} --json"
row() { printf '  %7s  %10s  %10s  %7s  %7s  %8s  %8s  %8s  %8s  %8s  %s\n' "$@"; }
row rate achieved span/s dropped errors p50_ms p90_ms p99_ms p999_ms max_ms held
best="" best_line=""
for ((rate = FROM; rate <= TO; rate += STEP)); do
	out=$TMP/rate-$rate.json
	"$hooklab" load --to "$url" --preset github --body-file "$TMP/body.json" --header "X-GitHub-Event: ${BODY_FIXTURE#*/}" \
		--secret "$SECRET" --rate "$rate" --duration "$DUR" "${mif[@]}" --json >"$out" 2>"$TMP/rate-$rate.err" || true
	line=$(jq -r --argjson r "$rate" '
		def secs: capture("^(?<s>[^.Z]+)(?<f>[.][0-9]+)?Z$") | ((.s + "Z") | fromdate) + ((.f // "0") | tonumber);
		(.rate_achieved / .rate_requested) as $q
		| (.requests / ((.raw.metrics.end | secs) - (.raw.metrics.first | secs))) as $span
		| ($span / .rate_requested) as $qs
		| (.requests - .success) as $bad
		| [$r, (.rate_achieved | . * 10 | round / 10), ($span | . * 10 | round / 10), .dropped, $bad,
		   .latency_ms.p50, .latency_ms.p90, .latency_ms.p99, .latency_ms.p999, .latency_ms.max,
		   (if ($q >= 0.99 and $q <= 1.01 and $qs >= 0.99 and $qs <= 1.01 and .dropped == 0 and $bad == 0) then "yes" else "no" end)]
		| @tsv' "$out")
	IFS=$'\t' read -r -a cols <<<"$line"
	row "${cols[@]}"
	if [ "${line##*$'\t'}" = yes ]; then
		best=$rate best_line=$line
	elif [ "$ALL" = 0 ]; then
		break
	fi
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$best" ]; then
	echo "highest rate held (within 1%, nothing dropped, all 2xx): $best/s"
	IFS=$'\t' read -r -a cols <<<"$best_line"
	row "${cols[@]}"
else
	echo "no rate held"
fi
