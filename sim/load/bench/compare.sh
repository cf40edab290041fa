#!/usr/bin/env bash
# compare.sh — hooklab load against vegeta and wrk, closed loop, on this machine.
#
# Builds hooklab and the minimal target (sim/load/bench/target), installs
# vegeta v12.13.0 from the Go module proxy (wrk is Debian's: apt-get
# install wrk; without it the wrk runs are skipped), starts the target on
# a free loopback port, then drives it at maximum throughput (closed loop:
# N workers or connections, each sending when its previous request is
# answered, for D) with vegeta and wrk (one static body, signed once) and
# with hooklab (every request signed at the moment it is sent), rotating
# which goes first, for several rounds. It prints each run's throughput
# (2xx answers a second) and CPU seconds per 1,000 requests, and the
# medians over rounds of the ratios hooklab/vegeta and hooklab/wrk, on two
# lines:
#
#   body     hooklab load --preset github --body-file F: signs every request
#   fixture  hooklab load --fixture github/pull_request: renders and signs
#            every request
#
# vegeta runs as it is normally used: "vegeta attack … | vegeta report
# -type json", so its gob encoding of every result through the pipe is
# part of its cost, as hooklab's own bookkeeping is part of hooklab's.
# wrk runs with -c N connections, WRK_THREADS threads (default: the
# number of cores) and a Lua script that sets the method, body and
# headers and prints its summary as JSON. The target and the load
# generators share this machine's cores.
#
# Usage: sim/load/bench/compare.sh [-n WORKERS] [-d DURATION] [-r ROUNDS]
#                                  [--only body|fixture] [--hooklab BIN] [--baseline BIN] [--keep]
# --hooklab BIN uses a hooklab binary built elsewhere (to measure a change)
# instead of building ./cmd/hooklab; --baseline BIN adds a fourth tool,
# "base": another hooklab binary (say main's) run the same way in the same
# rotation, with the ratio hooklab/base; --keep keeps the reports in $TMPDIR.
# Environment: N, D, ROUNDS, ONLY take the same values (flags win);
# WRK_THREADS is wrk's -t (default nproc);
# BENCH_SECRET is the signing secret (a test value by default).
# See sim/load/bench/README.md for what it prints and measured figures.
set -euo pipefail

N=${N:-32}
D=${D:-10s}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-}
KEEP=0
HOOKLAB_BIN=
BASE_BIN=
SECRET=${BENCH_SECRET:-bench-secret}
VEGETA_VERSION=v12.13.0
WRK_THREADS=${WRK_THREADS:-$(nproc)}

usage() {
	sed -n '/^# Usage:/,/^# See/p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	-n | --workers) N=$2; shift 2 ;;
	-d | --duration) D=$2; shift 2 ;;
	-r | --rounds) ROUNDS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--hooklab) HOOKLAB_BIN=$2; shift 2 ;;
	--baseline) BASE_BIN=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "compare.sh: unknown argument $1" >&2; usage ;;
	esac
done
case "$ONLY" in "" | body | fixture) ;; *) echo "compare.sh: --only body or fixture" >&2; exit 2 ;; esac
case "$N$ROUNDS" in *[!0-9]*) echo "compare.sh: -n and -r take numbers" >&2; exit 2 ;; esac
command -v jq >/dev/null || { echo "compare.sh: needs jq (apt-get install jq)" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hooklab-bench.XXXXXX")
target_pid=
cleanup() {
	if [ -n "$target_pid" ]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
	if [ "$KEEP" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

echo "# building hooklab, the target and vegeta $VEGETA_VERSION in $TMP"
if [ -n "$HOOKLAB_BIN" ]; then
	cp "$HOOKLAB_BIN" "$TMP/hooklab"
else
	(cd "$repo" && go build -o "$TMP/hooklab" ./cmd/hooklab)
fi
(cd "$repo" && go build -o "$TMP/target" ./sim/load/bench/target)
# Installed once instead of "go run …@version" on every run, so that no
# compilation competes with a measurement; it is the same program.
(cd "$TMP" && GOBIN="$TMP" GOFLAGS="" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION")
hooklab=$TMP/hooklab
vegeta=$TMP/vegeta
wrk=$(command -v wrk || true)
[ -n "$wrk" ] || echo "# wrk not found (apt-get install wrk): its runs are skipped"
tools=(vegeta hooklab)
[ -n "$wrk" ] && tools=(vegeta wrk hooklab)
if [ -n "$BASE_BIN" ]; then
	cp "$BASE_BIN" "$TMP/hooklab-base"
	tools+=(base)
fi

"$TMP/target" -addr 127.0.0.1:0 >"$TMP/target.url" 2>"$TMP/target.err" &
target_pid=$!
for _ in $(seq 100); do [ -s "$TMP/target.url" ] && break; sleep 0.05; done
[ -s "$TMP/target.url" ] || { echo "compare.sh: the target did not start:" >&2; cat "$TMP/target.err" >&2; exit 1; }
url=$(head -1 "$TMP/target.url")/hooks/github

# The body both tools send: the github/pull_request fixture rendered once.
# vegeta's two requests (body: the headers hooklab load --preset sends;
# fixture: the fixture's own headers) are signed once, here; hooklab signs
# (and with --fixture renders) every request itself.
"$hooklab" sign --fixture github/pull_request --seed 1 --secret "$SECRET" --url "$url" --format json >"$TMP/fixture.signed.json"
jq -j .body "$TMP/fixture.signed.json" >"$TMP/body.json"
"$hooklab" sign --preset github --secret "$SECRET" --body-file "$TMP/body.json" --url "$url" \
	--header 'X-GitHub-Event: pull_request' --format json >"$TMP/body.signed.json"
vegeta_headers() { # signed.json → -header args, one a line
	jq -r '.headers | to_entries[] | .key as $k | (.value | if type == "array" then .[] else . end) | "\($k): \(.)"' "$1"
}

# wrk_script signed.json → a Lua script for wrk: POST, the body file,
# the signed headers, and a done() that prints the summary as JSON.
wrk_script() {
	{
		printf 'wrk.method = "POST"\n'
		printf 'local f = assert(io.open(%s, "rb")); wrk.body = f:read("*a"); f:close()\n' "$(jq -Rn --arg p "$TMP/body.json" '$p')"
		jq -r '.headers | to_entries[] | "wrk.headers[\(.key | tojson)] = \(.value | if type == "array" then .[0] else . end | tojson)"' "$1"
		cat <<-'LUA'
		done = function(summary, latency, requests)
		  local e = summary.errors
		  local ok = summary.requests - e.status - e.connect - e.read - e.write - e.timeout
		  if ok < 0 then ok = 0 end
		  io.write(string.format('{"requests":%d,"success":%d,"duration_s":%.6f,"throughput":%.3f,"errors":{"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
		    summary.requests, ok, summary.duration / 1e6, ok / (summary.duration / 1e6), e.status, e.connect, e.read, e.write, e.timeout))
		end
		LUA
	}
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run TOOL VARIANT ROUND: one measured run; prints a line and stores
# TOOL-VARIANT-ROUND.json (the tool's JSON report) and .cpu (user sys s).
run() {
	local tool=$1 variant=$2 round=$3 out=$TMP/$1-$2-$3 t0 t1
	local TIMEFORMAT='%U %S'
	t0=$(cpu_ticks "$target_pid")
	if [ "$tool" = wrk ]; then
		wrk_script "$TMP/$variant.signed.json" >"$TMP/$variant.lua"
		{ time "$wrk" -t "$WRK_THREADS" -c "$N" -d "$D" -s "$TMP/$variant.lua" "$url" 2>"$out.err" |
			sed -n '/^{/p' >"$out.json"; } 2>"$out.cpu"
	elif [ "$tool" = vegeta ]; then
		local -a hdr=()
		while IFS= read -r h; do hdr+=(-header "$h"); done < <(vegeta_headers "$TMP/$variant.signed.json")
		{ time { printf 'POST %s\n' "$url" |
			"$vegeta" attack -rate 0 -max-workers "$N" -workers "$N" -duration "$D" -body "$TMP/body.json" "${hdr[@]}" 2>"$out.err" |
			"$vegeta" report -type json >"$out.json" 2>>"$out.err"; }; } 2>"$out.cpu"
	else
		local -a src=(--preset github --body-file "$TMP/body.json" --header 'X-GitHub-Event: pull_request')
		[ "$variant" = fixture ] && src=(--fixture github/pull_request)
		local bin=$hooklab
		[ "$tool" = base ] && bin=$TMP/hooklab-base
		{ time "$bin" load --to "$url" "${src[@]}" --secret "$SECRET" --rate 0 --workers "$N" --duration "$D" --json \
			>"$out.json" 2>"$out.err" || true; } 2>"$out.cpu"
	fi
	t1=$(cpu_ticks "$target_pid")
	local tput req ok
	if [ "$tool" = wrk ]; then
		read -r tput req ok < <(jq -r '"\(.throughput) \(.requests) \(if .requests > 0 then .success / .requests else 0 end)"' "$out.json")
	elif [ "$tool" = vegeta ]; then
		read -r tput req ok < <(jq -r '"\(.throughput) \(.requests) \(.success)"' "$out.json")
	else
		read -r tput req ok < <(jq -r '"\(.throughput) \(.requests) \(.success_ratio)"' "$out.json")
	fi
	printf '%s\n' "$tput" >"$out.tput"
	# CPU seconds per 1,000 requests: the generator's (vegeta: attack +
	# report) and the target's during the run.
	awk -v c="$(awk '{print $1 + $2}' "$out.cpu")" -v r="$req" 'BEGIN{printf "%.4f\n", r ? c * 1e3 / r : 0}' >"$out.k"
	awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v r="$req" 'BEGIN{printf "%.4f\n", r ? (b - a) / hz * 1e3 / r : 0}' >"$out.tk"
	local cpu tcpu
	cpu=$(awk '{printf "%.2f", $1 + $2}' "$out.cpu")
	tcpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b - a) / hz}')
	printf '  round %d  %-7s  %-7s  throughput %9.1f/s  requests %8d  success %.4f  cpu %6.2fs (%.3f s/1k req)  target cpu %6.2fs (%.3f s/1k req)\n' \
		"$round" "$variant" "$tool" "$tput" "$req" "$ok" "$cpu" "$(cat "$out.k")" "$tcpu" "$(cat "$out.tk")"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

variants=(body fixture)
[ -n "$ONLY" ] && variants=("$ONLY")
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  load average $(cut -d' ' -f1-3 /proc/loadavg)  target $url"
echo "# closed loop: $N workers, $D a run, $ROUNDS rounds; the target and the generators share the cores"
for variant in "${variants[@]}"; do
	for round in $(seq "$ROUNDS"); do
		# Rotate the order: each tool goes first in turn.
		order=()
		k=${#tools[@]}
		for i in $(seq 0 $((k - 1))); do order+=("${tools[$(((i + round - 1) % k))]}"); done
		for tool in "${order[@]}"; do run "$tool" "$variant" "$round"; done
	done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
col() { for round in $(seq "$ROUNDS"); do cat "$TMP/$1-$2-$round.$3"; done; }
ratio() { # A B VARIANT: the per-round ratios of A's throughput to B's
	for round in $(seq "$ROUNDS"); do
		awk -v a="$(cat "$TMP/$1-$3-$round.tput")" -v b="$(cat "$TMP/$2-$3-$round.tput")" 'BEGIN{printf "%.3f\n", (b > 0 ? a / b : 0)}'
	done
}
for variant in "${variants[@]}"; do
	case $variant in
	body) label='body     (hooklab --preset github --body-file: signs every request)' ;;
	fixture) label='fixture  (hooklab --fixture github/pull_request: renders and signs every request)' ;;
	esac
	echo "$label"
	for tool in "${tools[@]}"; do
		printf '    %-7s  median %9.1f/s  cpu %.3f s/1k req  target cpu %.3f s/1k req\n' "$tool" \
			"$(col "$tool" "$variant" tput | median)" "$(col "$tool" "$variant" k | median)" "$(col "$tool" "$variant" tk | median)"
	done
	for base in "${tools[@]}"; do
		[ "$base" = hooklab ] && continue
		r=$(ratio hooklab "$base" "$variant")
		printf '    ratio hooklab/%s median %.3f  (rounds: %s)\n' "$base" "$(printf '%s\n' "$r" | median)" "$(echo $r)"
	done
done
